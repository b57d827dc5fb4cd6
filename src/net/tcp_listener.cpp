#include "greenrpc/net/tcp_listener.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "address.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/log.hpp"

namespace greenrpc {

TcpListener::TcpListener(const ListenOptions& options) : reactor_(Reactor::current()) {
  if (!reactor_) throw std::logic_error("greenrpc::TcpListener must be created on a greenrpc runtime thread");
  const Endpoint where{options.host, options.port};
  int last_error = 0;
  for (const auto& addr : net_detail::resolve(options.host, options.port, true, Deadline::after(std::chrono::seconds(10)))) {
    int fd = ::socket(addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.addr), addr.len) != 0 || ::listen(fd, options.backlog) != 0) {
      last_error = errno;
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = net_detail::to_endpoint(reinterpret_cast<sockaddr*>(&bound)).port;
    fd_ = fd;
    reg_ = reactor_->add_fd(fd_);
    return;
  }
  throw IoError("cannot listen on " + where.to_string() + ": " + std::strerror(last_error), last_error);
}

TcpListener::~TcpListener() { close(); }

void TcpListener::close() {
  if (fd_ < 0) return;
  reactor_->remove_fd(reg_);  // wakes the acceptor with `cancelled`
  ::close(fd_);
  fd_ = -1;
}

std::unique_ptr<TcpStream> TcpListener::accept(Deadline deadline) {
  while (fd_ >= 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return std::make_unique<TcpStream>(fd, net_detail::to_endpoint(reinterpret_cast<sockaddr*>(&ss)));
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      auto r = reactor_->wait_fd(reg_, IoDirection::read, deadline);
      if (r == Waiter::Result::timed_out) throw TimeoutError("accept timed out");
      throw_if_interrupted(r, "accept");
      continue;  // woken or cancelled: the loop condition tells
    }
    if (err == EINTR || err == ECONNABORTED) continue;
    // EMFILE/ENFILE/ENOBUFS: out of resources. Back off instead of spinning on the ready fd.
    // A flood of connections can cause it: limited to a few lines a second.
    GREENRPC_LOG_LIMITED(error, "accept_failed", "accept failed: backing off 50 ms", {{"error", std::strerror(err)}});
    sleep_for(std::chrono::milliseconds(50));
  }
  return nullptr;
}

}  // namespace greenrpc
