#pragma once
// An arrpc peer by hand (docs/protocol.md, "arrpc wire"): msgpack values written to and read from
// a blocking loopback socket with a receive timeout, so nothing hangs. MsgpackValues frames the
// replies of any byte source (TLS tests read through OpenSSL).
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "loopback.hpp"

namespace test_support {

template <class T>
std::string msgpack_bytes(const T& value) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, value);
  return {buf.data(), buf.size()};
}

// The replies of a byte stream, one msgpack value at a time.
class MsgpackValues {
 public:
  // `recv(buffer, capacity)` reads like ::recv: <= 0 when closed, failed or timed out.
  template <class Recv>
  std::optional<msgpack::object_handle> next(Recv&& recv) {
    msgpack::object_handle value;
    while (!unpacker_.next(value)) {
      unpacker_.reserve_buffer(1 << 16);
      const long n = recv(unpacker_.buffer(), unpacker_.buffer_capacity());
      if (n <= 0) return std::nullopt;
      unpacker_.buffer_consumed(static_cast<std::size_t>(n));
    }
    return value;
  }
  // What is buffered but not yet a whole value.
  std::size_t pending() const { return unpacker_.nonparsed_size(); }

 private:
  msgpack::unpacker unpacker_;
};

// A RawSocket that speaks arrpc: msgpack values out, msgpack values back.
class ArrpcPeer {
 public:
  explicit ArrpcPeer(std::uint16_t port, int timeout_ms = 5000) : socket_(port, timeout_ms) {}

  void send(std::string_view bytes) { socket_.send(bytes); }
  template <class T>
  void send_value(const T& value) {
    send(msgpack_bytes(value));
  }
  // The next reply; nullopt on close or timeout.
  std::optional<msgpack::object_handle> read() {
    return values_.next([this](char* buf, std::size_t cap) { return static_cast<long>(::recv(fd(), buf, cap, 0)); });
  }
  // The next reply if it is a string ("<not a string>" otherwise, "<none>" on close or timeout).
  std::string read_string() {
    auto v = read();
    if (!v) return "<none>";
    if (v->get().type != msgpack::type::STR) return "<not a string>";
    return v->get().as<std::string>();
  }
  template <class T>
  T call(const auto& message) {
    send_value(message);
    auto v = read();
    if (!v) throw std::runtime_error("ArrpcPeer: no reply");
    return v->get().as<T>();
  }
  // True when the server closes the connection (EOF or reset) with nothing more to read.
  bool closes() {
    char c;
    const ssize_t n = ::recv(fd(), &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
  int fd() const { return socket_.fd(); }

 private:
  RawSocket socket_;
  MsgpackValues values_;
};

}  // namespace test_support
