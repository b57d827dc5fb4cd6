#pragma once
// A connected TCP socket on the calling thread's reactor. Tries each syscall first and parks the
// fiber only on EAGAIN (edge-triggered epoll).
#include <memory>
#include <string>

#include "greenrpc/net/byte_stream.hpp"
#include "greenrpc/runtime/reactor.hpp"

namespace greenrpc {

class TcpStream final : public ByteStream {
 public:
  // Takes ownership of a connected, non-blocking socket. Must be created on a runtime thread.
  TcpStream(int fd, Endpoint peer);
  ~TcpStream() override;

  std::size_t read_some(std::span<char> buf, Deadline deadline) override;
  std::size_t write_some(std::span<const std::string_view> parts, Deadline deadline) override;
  void cancel() override;
  void shutdown_write() override;
  void close() override;
  const Endpoint& peer() const override { return peer_; }

  // Opens a connection; `deadline` bounds name resolution and the TCP handshake.
  // Throws ConnectError naming host:port and the system error.
  static std::unique_ptr<TcpStream> connect(const std::string& host, std::uint16_t port, Deadline deadline);

 private:
  void wait(IoDirection dir, Deadline deadline, const char* op);

  int fd_;
  Endpoint peer_;
  Reactor* reactor_;
  FdRegistration reg_;
  bool cancelled_ = false;
};

}  // namespace greenrpc
