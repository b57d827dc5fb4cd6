#pragma once
// A connected TCP socket on the calling thread's reactor. Tries each syscall first and parks the
// fiber only on EAGAIN (edge-triggered epoll). Follows ByteStream's concurrency contract.
#include <memory>
#include <string>

#include "greenrpc/net/byte_stream.hpp"
#include "greenrpc/runtime/reactor.hpp"

namespace greenrpc {

class TcpConnector;

class TcpStream final : public ByteStream {
 public:
  // Takes ownership of a connected, non-blocking socket. Must be created on a runtime thread,
  // which becomes the stream's owner thread.
  TcpStream(int fd, Endpoint peer);
  ~TcpStream() override;

  // No-op: TCP has no handshake of its own. Never parks; CancelledError once cancelled.
  void handshake(Deadline deadline) override;
  // ECONNRESET ends the stream like a FIN (0), but end_of_stream() reports it as abrupt.
  std::size_t read_some(std::span<char> buf, Deadline deadline) override;
  EndOfStream end_of_stream() const override { return eof_; }
  // Every byte sendmsg accepted is in the kernel: nothing is ever held (has_unflushed is false).
  std::size_t write_some(std::span<const std::string_view> parts, Deadline deadline) override;
  // shutdown(SHUT_WR): the kernel sends the FIN after every queued byte. Never parks.
  // IoError when the socket can no longer be shut down (e.g. reset by the peer).
  void shutdown(Deadline deadline) override;
  void shutdown_write() override;
  bool notify_readable(Deadline deadline, Waiter::Callback ready, void* arg) override;
  void stop_notify_readable() noexcept override;
  void cancel() override;
  void close() override;
  const Endpoint& peer() const override { return peer_; }
  void acknowledge_now() noexcept override;

  // Opens a connection; `deadline` bounds name resolution and the TCP handshake.
  // Throws ConnectError naming host:port and the system error. (TcpConnector adds cancellation
  // and the stream's handshake.)
  static std::unique_ptr<TcpStream> connect(const std::string& host, std::uint16_t port, Deadline deadline);

 private:
  friend class TcpConnector;
  // The same, publishing each attempt's stream in *attempt while it waits (so that a connector's
  // cancel() can wake it) and giving up with CancelledError once *cancelled is set.
  static std::unique_ptr<TcpStream> connect(const std::string& host, std::uint16_t port, Deadline deadline,
                                            ByteStream** attempt, const bool* cancelled);
  void wait(IoDirection dir, Deadline deadline, const char* op);
  static void on_readable(void* self, Waiter::Result why);
  void stop_waiting() noexcept;  // notify_readable's waiter and callback cleared
  void check_owner() const;
  void throw_if_cancelled(const char* op) const;

  int fd_;
  Endpoint peer_;
  Reactor* reactor_;
  FdRegistration reg_;
  // notify_readable's fiber-free wait, and the caller's callback it forwards to.
  Waiter ready_waiter_;
  Waiter::Callback ready_ = nullptr;
  void* ready_arg_ = nullptr;
  bool cancelled_ = false;
  EndOfStream eof_ = EndOfStream::open;
  // The contract's one reader / one writer, checked in debug builds only (present in every build
  // so that the layout does not depend on NDEBUG).
  bool reading_ = false;
  bool writing_ = false;
};

}  // namespace greenrpc
