#include "greenrpc/net/tcp_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <utility>

#include "address.hpp"
#include "stream_checks.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/runtime/errors.hpp"

namespace greenrpc {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

TcpStream::TcpStream(int fd, Endpoint peer) : fd_(fd), peer_(std::move(peer)), reactor_(Reactor::current()) {
  if (!reactor_) {
    ::close(fd);
    throw std::logic_error("greenrpc::TcpStream must be created on a greenrpc runtime thread");
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  reg_ = reactor_->add_fd(fd_);
}

TcpStream::~TcpStream() { close(); }

void TcpStream::check_owner() const {
  assert(Reactor::current() == reactor_ && "greenrpc::ByteStream used off its owner thread");
}

void TcpStream::throw_if_cancelled(const char* op) const {
  if (cancelled_ || fd_ < 0)
    throw CancelledError(std::string(op) + " on a cancelled stream (" + peer_.to_string() + ")");
}

bool TcpStream::notify_readable(Deadline deadline, Waiter::Callback ready, void* arg) {
  check_owner();
  assert(!reading_ && !ready_waiter_.armed() && "notify_readable while reading or already waiting");
  if (cancelled_ || fd_ < 0) return false;
  if (reactor_->read_ready(reg_)) {
    // Unknown (a new socket, or the last read filled its buffer) or an event since: look without
    // taking. Bytes, the end or an error: the caller reads. Nothing: not ready, and the next
    // bytes raise an edge (edge-triggered epoll reports only what arrives from now on).
    char probe;
    const ssize_t n = ::recv(fd_, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
    reactor_->clear_read_ready(reg_);
    if (reactor_->read_ready(reg_)) return false;  // hung up: the end is there to read
  }
  ready_ = ready;
  ready_arg_ = arg;
  ready_waiter_.arm(deadline, &TcpStream::on_readable, this);
  bool watched = false;
  try {
    watched = reactor_->watch_fd(reg_, IoDirection::read, ready_waiter_);
  } catch (...) {  // another waiter (a contract violation): leave nothing armed
    stop_waiting();
    throw;
  }
  if (!watched) stop_waiting();  // not registered: the caller reads instead
  return watched;
}

void TcpStream::on_readable(void* self, Waiter::Result why) {
  auto* stream = static_cast<TcpStream*>(self);
  stream->reactor_->unwatch_fd(stream->reg_, IoDirection::read, stream->ready_waiter_);
  Waiter::Callback ready = std::exchange(stream->ready_, nullptr);
  void* arg = std::exchange(stream->ready_arg_, nullptr);
  ready(arg, why);  // may destroy the stream
}

void TcpStream::stop_notify_readable() noexcept {
  if (!ready_waiter_.armed()) return;
  reactor_->unwatch_fd(reg_, IoDirection::read, ready_waiter_);
  stop_waiting();
}

void TcpStream::stop_waiting() noexcept {
  ready_waiter_.disarm();
  ready_ = nullptr;
  ready_arg_ = nullptr;
}

void TcpStream::acknowledge_now() noexcept {
  int one = 1;
  if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

void TcpStream::close() {
  if (fd_ < 0) return;
  check_owner();
  stop_notify_readable();  // withdrawn, not called
  reactor_->remove_fd(reg_);  // wakes parked fibers before the fd number can be reused
  ::close(fd_);
  fd_ = -1;
}

void TcpStream::cancel() {
  check_owner();
  cancelled_ = true;
  reactor_->cancel_fd(reg_);
}

void TcpStream::shutdown_write() {
  check_owner();
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void TcpStream::handshake(Deadline) {
  check_owner();
  GREENRPC_ONE_AT_A_TIME(reading_);
  GREENRPC_ONE_AT_A_TIME(writing_);
  throw_if_cancelled("handshake");
}

void TcpStream::shutdown(Deadline) {
  check_owner();
  GREENRPC_ONE_AT_A_TIME(writing_);
  throw_if_cancelled("shutdown");
  // Nothing is held in this process: the kernel queues the FIN behind every byte sendmsg took.
  if (::shutdown(fd_, SHUT_WR) != 0) {
    int err = errno;
    throw IoError("shutdown of " + peer_.to_string() + ": " + errno_text(err), err);
  }
}

void TcpStream::wait(IoDirection dir, Deadline deadline, const char* op) {
  switch (reactor_->wait_fd(reg_, dir, deadline)) {
    case Waiter::Result::woken:
      return;
    case Waiter::Result::timed_out:
      throw TimeoutError(std::string(op) + " timed out (" + peer_.to_string() + ")");
    case Waiter::Result::cancelled:
      // The stream's own cancel() ends it for good; the fiber's CancelToken only ends this wait.
      throw CancelledError(std::string(op) + " cancelled (" + peer_.to_string() + ")");
    case Waiter::Result::deadline_exceeded:
      throw DeadlineExceededError(std::string(op) + ": the request's deadline passed (" + peer_.to_string() + ")");
  }
}

std::size_t TcpStream::read_some(std::span<char> buf, Deadline deadline) {
  check_owner();
  assert(!buf.empty() && "read_some into an empty buffer: 0 would read as end of stream");
  GREENRPC_ONE_AT_A_TIME(reading_);
  for (;;) {
    throw_if_cancelled("read");
    // Not ready only after a short read with no event since: the socket was empty then, and a
    // recv now would only say EAGAIN. Park first.
    if (!reactor_->read_ready(reg_)) wait(IoDirection::read, deadline, "read");
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n > 0 && static_cast<std::size_t>(n) < buf.size())
      reactor_->clear_read_ready(reg_);  // the same fiber, no switch: no event slips in between
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
      // A recv after a reported reset also says 0: the first verdict stays.
      if (eof_ == EndOfStream::open) eof_ = EndOfStream::orderly;
      return 0;
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      wait(IoDirection::read, deadline, "read");
    } else if (err != EINTR) {
      if (err == ECONNRESET) {  // a reset peer is gone, like an orderly close, but say how
        eof_ = EndOfStream::abrupt;
        return 0;
      }
      throw IoError("read from " + peer_.to_string() + ": " + errno_text(err), err);
    }
  }
}

std::size_t TcpStream::write_some(std::span<const std::string_view> parts, Deadline deadline) {
  check_owner();
  GREENRPC_ONE_AT_A_TIME(writing_);
  constexpr std::size_t kMaxIov = 64;
  iovec iov[kMaxIov];
  std::size_t count = 0;
  for (std::size_t i = 0; i < parts.size() && count < kMaxIov; ++i) {
    if (parts[i].empty()) continue;
    iov[count].iov_base = const_cast<char*>(parts[i].data());
    iov[count].iov_len = parts[i].size();
    ++count;
  }
  if (count == 0) return 0;
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  for (;;) {
    throw_if_cancelled("write");
    // What sendmsg accepted is in the kernel's send queue, which delivers it or fails the
    // connection; what it did not accept never left: exactly ByteStream's "taken".
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      wait(IoDirection::write, deadline, "write");
    } else if (err != EINTR) {
      throw IoError("write to " + peer_.to_string() + ": " + errno_text(err), err);
    }
  }
}

std::unique_ptr<TcpStream> TcpStream::connect(const std::string& host, std::uint16_t port, Deadline deadline) {
  return connect(host, port, deadline, nullptr, nullptr);
}

std::unique_ptr<TcpStream> TcpStream::connect(const std::string& host, std::uint16_t port, Deadline deadline,
                                              ByteStream** attempt, const bool* cancelled) {
  const Endpoint target{host, port};
  int last_error = 0;
  auto addresses = net_detail::resolve(host, port, false, deadline);
  for (const auto& addr : addresses) {
    if (cancelled && *cancelled) throw CancelledError("connect to " + target.to_string() + " cancelled");
    int fd = ::socket(addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    auto stream = std::make_unique<TcpStream>(fd, net_detail::to_endpoint(reinterpret_cast<const sockaddr*>(&addr.addr)));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.addr), addr.len) == 0) return stream;
    if (errno != EINPROGRESS) {
      last_error = errno;
      continue;
    }
    if (attempt) *attempt = stream.get();
    bool timed_out = false;
    try {
      stream->wait(IoDirection::write, deadline, "connect");
    } catch (const TimeoutError&) {
      timed_out = true;  // recorded only; CancelledError goes on up
    } catch (...) {
      if (attempt) *attempt = nullptr;
      throw;
    }
    if (attempt) *attempt = nullptr;
    if (timed_out) throw ConnectError("connect to " + target.to_string() + " timed out", ETIMEDOUT);
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return stream;
    last_error = err;
  }
  throw ConnectError("connect to " + target.to_string() + ": " + errno_text(last_error), last_error);
}

}  // namespace greenrpc
