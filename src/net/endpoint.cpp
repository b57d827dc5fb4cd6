#include "greenrpc/net/endpoint.hpp"

namespace greenrpc {

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace greenrpc
