#pragma once
// A host and port, as text and number, e.g. for peers and listeners.
#include <cstdint>
#include <string>

namespace greenrpc {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;  // "127.0.0.1:7777", "[::1]:7777"
};

}  // namespace greenrpc
