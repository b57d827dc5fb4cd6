#pragma once
// Plain blocking loopback sockets for tests that play a peer or a proxy by hand: connect, listen,
// and RawSocket for hand-made RESP. Shared by the server, client and envelope suites.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace test_support {

// A blocking TCP connection to 127.0.0.1:`port` (TCP_NODELAY); -1 when it is refused.
// `receive_buffer` > 0: SO_RCVBUF, set before connecting (it bounds the window the peer gets).
inline int connect_loopback(std::uint16_t port, int receive_buffer = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receive_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A socket listening on 127.0.0.1, on a port the kernel picks (written to `port`).
inline int listen_loopback(std::uint16_t& port, int backlog = 64) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) {
    ::close(fd);
    throw std::runtime_error("listen_loopback: bind/listen failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

// ---------------------------------------------------------------------------------------------
// RESP framing (for the proxy and the raw socket): the length of the complete value at `pos`, or
// 0 while it is incomplete. A frame that does not start with a RESP type byte is an inline line.
// ---------------------------------------------------------------------------------------------
inline std::size_t resp_value_end(std::string_view b, std::size_t pos, int depth = 0) {
  if (pos >= b.size()) return 0;
  auto nl = b.find("\r\n", pos);
  char t = b[pos];
  if (t != '+' && t != '-' && t != ':' && t != '$' && t != '*') {
    auto lf = b.find('\n', pos);
    return lf == std::string_view::npos ? 0 : lf + 1;
  }
  if (nl == std::string_view::npos) return 0;
  std::size_t after = nl + 2;
  if (t == '+' || t == '-' || t == ':') return after;
  long long n = std::atoll(std::string(b.substr(pos + 1, nl - pos - 1)).c_str());
  if (t == '$') {
    if (n < 0) return after;
    std::size_t end = after + static_cast<std::size_t>(n) + 2;
    return end <= b.size() ? end : 0;
  }
  if (n < 0 || depth > 32) return after;
  std::size_t p = after;
  for (long long i = 0; i < n; ++i) {
    std::size_t e = resp_value_end(b, p, depth + 1);
    if (e == 0) return 0;
    p = e;
  }
  return p;
}

// The exact bytes of the next complete RESP reply on `fd`, `pending` holding bytes received but
// not returned yet; empty on EOF, reset or a receive timeout (SO_RCVTIMEO).
inline std::string read_resp_reply(int fd, std::string& pending) {
  char buf[65536];
  for (;;) {
    if (std::size_t end = resp_value_end(pending, 0)) {
      std::string out = pending.substr(0, end);
      pending.erase(0, end);
      return out;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    pending.append(buf, static_cast<std::size_t>(n));
  }
}

// A blocking TCP socket for hand-made RESP, with a receive timeout so no test can hang.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port, int timeout_ms = 5000) : fd_(connect_loopback(port)) {
    if (fd_ < 0) throw std::runtime_error("RawSocket: connect failed");
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  int fd() const { return fd_; }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("RawSocket: send failed");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // The exact bytes of the next reply; empty on EOF or timeout.
  std::string read_reply() { return read_resp_reply(fd_, buf_); }
  std::string call(std::string_view frame) {
    send(frame);
    return read_reply();
  }
  std::string nonce() {
    std::string r = call("*1\r\n$5\r\nNONCE\r\n");
    if (r.size() != 5 + 16 + 2 || r.substr(0, 5) != "$16\r\n") throw std::runtime_error("bad NONCE reply (" + std::to_string(r.size()) + " bytes)");
    return r.substr(5, 16);
  }
  // Reads until `expected` bytes arrived (what a reply buffered first), EOF, or the timeout.
  std::string read_exactly(std::size_t expected) {
    std::string got = std::exchange(buf_, {});
    char buf[65536];
    while (got.size() < expected) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
  // True when the peer closed the connection (EOF before the receive timeout).
  bool closed_by_peer() {
    char c;
    return buf_.empty() && ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  int fd_;
  std::string buf_;
};

}  // namespace test_support
