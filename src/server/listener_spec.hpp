#pragma once
// One port a server listens on and the protocol it serves there. Every worker opens each of the
// server's listeners (SO_REUSEPORT when there are several workers).
#include <cstdint>
#include <memory>
#include <string>

#include "protocol_factory.hpp"

namespace greenrpc {

struct ListenerSpec {
  std::string host;
  std::uint16_t port = 0;  // 0: the kernel picks (the first worker's pick is reused by the others)
  std::shared_ptr<const ProtocolFactory> protocol;
};

}  // namespace greenrpc
