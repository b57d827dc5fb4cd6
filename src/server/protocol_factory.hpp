#pragma once
// What a listener serves: makes the ProtocolHandler of each accepted connection (helio's
// ListenerInterface). Shared by every worker's listener for the same port, so it is immutable.
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "greenrpc/net/byte_stream.hpp"
#include "protocol_handler.hpp"

namespace greenrpc {

class Worker;

// A protocol's answer to a connection's first bytes (brpc's "not mine, try the others").
enum class Match { yes, no, need_more };

class ProtocolFactory {
 public:
  virtual ~ProtocolFactory() = default;

  // For logs: "resp", "sniffing", ...
  virtual std::string_view name() const noexcept = 0;
  // Called on the worker's thread, in the connection's fiber. `id` is the connection's, given at
  // accept (CLIENT ID, and the conn= of its log lines).
  virtual std::unique_ptr<ProtocolHandler> make(Worker& worker, std::unique_ptr<ByteStream> stream,
                                                std::uint64_t id) const = 0;
  // Whether a connection that begins with `first_bytes` (at least one byte) speaks this protocol.
  virtual Match probe(std::span<const char> first_bytes) const noexcept = 0;
  // Written, best effort, to a connection refused because max_connections is reached; may be empty.
  virtual std::string_view refusal() const noexcept { return {}; }
  // Written in the clear to a peer that speaks this protocol without TLS on a port that requires
  // TLS (its first bytes: at least one), before the connection is closed; may be empty.
  virtual std::string_view tls_required_refusal(std::span<const char> first_bytes) const noexcept {
    (void)first_bytes;
    return {};
  }
};

}  // namespace greenrpc
