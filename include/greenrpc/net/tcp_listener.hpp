#pragma once
// A listening TCP socket on the calling thread's reactor. With reuse_port several threads each
// bind their own listener to the same port and the kernel spreads connections between them.
#include <cstdint>
#include <memory>
#include <string>

#include "greenrpc/net/tcp_stream.hpp"

namespace greenrpc {

struct ListenOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (see TcpListener::port())
  bool reuse_port = false;
  int backlog = 1024;
};

class TcpListener {
 public:
  // Binds and listens; throws IoError naming host:port on failure.
  explicit TcpListener(const ListenOptions& options);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Waits for the next connection. Returns nullptr once close() was called (from this thread).
  // Transient errors (EMFILE, ECONNABORTED...) are logged and retried after a short pause.
  std::unique_ptr<TcpStream> accept(Deadline deadline = Deadline::never());
  // Stops accepting and wakes a fiber parked in accept().
  void close();
  std::uint16_t port() const { return port_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  Reactor* reactor_ = nullptr;
  FdRegistration reg_;
};

}  // namespace greenrpc
