#pragma once
// How a server listens and behaves. Every field has a sensible default.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "greenrpc/codec/limits.hpp"
#include "greenrpc/protocol/limits.hpp"
#include "greenrpc/runtime/stack_pool.hpp"

namespace greenrpc {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;  // 0: pick a free port (Server::port() tells which)
  // Worker threads, each with its own scheduler and its own SO_REUSEPORT listener (Tino's `workers`).
  unsigned workers = 1;
  // Connections beyond this get "-ERR max number of clients reached" and are closed.
  std::size_t max_connections = 10'000;
  // stop(): time given to running requests to finish once accepting stopped. Requests received
  // but not started are answered SHUTTING_DOWN at once (the greenrpc client resends them).
  std::chrono::milliseconds grace_period{5'000};
  // stop(): after the grace period the requests still running are cancelled (their waits end
  // with CancelledError); this long after that, stop() returns whatever they do, logging each
  // one still stuck. stop() always returns within grace_period + stop_timeout (plus a little).
  std::chrono::milliseconds stop_timeout{1'000};
  // A connection silent for this long is closed (0: never).
  std::chrono::milliseconds idle_timeout{0};
  // A reply that cannot be written within this time closes the connection (slow readers).
  std::chrono::milliseconds write_timeout{30'000};
  // HMAC-SHA256 message signing (arrpc's auth_secret). When set, every request to a user command
  // must be signed with it (or with one of previous_auth_secrets) and every reply is signed with
  // the secret that verified its request. PING and the other built-ins still answer unsigned.
  std::string auth_secret{};
  // Still accepted while clients move to a new auth_secret (key rotation without downtime).
  std::vector<std::string> previous_auth_secrets{};
  // With a secret set, also serve unsigned requests (during a rollout of signing).
  bool allow_unsigned = false;
  protocol::ProtocolLimits protocol_limits{};
  codec::DecodeLimits decode_limits{};
  std::size_t fiber_stack_size = GuardedStackPool::kDefaultStackSize;
};

}  // namespace greenrpc
