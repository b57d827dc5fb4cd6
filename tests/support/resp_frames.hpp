#pragma once
// RESP request and reply bytes built by hand, for tests that speak the wire directly.
#include <initializer_list>
#include <msgpack.hpp>
#include <string>
#include <string_view>

namespace test_support {

// "$<len>\r\n<bytes>\r\n"
inline std::string bulk(std::string_view s) { return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n"; }

// The msgpack encoding of `v`.
template <class T>
std::string msgpack_of(const T& v) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, v);
  return {buf.data(), buf.size()};
}

// A RESP request: the command name, then its (already encoded) arguments.
inline std::string request(std::string_view name, std::initializer_list<std::string_view> args = {}) {
  std::string out = "*" + std::to_string(1 + args.size()) + "\r\n" + bulk(name);
  for (std::string_view a : args) out += bulk(a);
  return out;
}

}  // namespace test_support
