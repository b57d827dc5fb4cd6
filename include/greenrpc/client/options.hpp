#pragma once
// Client-wide options, and the per-call options that override them.
#include <chrono>
#include <cstddef>
#include <string>

#include "greenrpc/codec/limits.hpp"
#include "greenrpc/metrics/options.hpp"
#include "greenrpc/protocol/limits.hpp"
#include "greenrpc/tls/tls_options.hpp"

namespace greenrpc {

struct ClientOptions {
  std::string password{};          // sent with AUTH on every (re)connect when non-empty
  std::string username{};          // AUTH <username> <password> when non-empty
  std::string client_name{};       // CLIENT SETNAME when non-empty
  // HMAC-SHA256 signing of every request, and verification of every reply (arrpc's auth_secret).
  std::string auth_secret{};
  std::chrono::milliseconds connect_timeout{5'000};  // per attempt
  // Connection attempts before ConnectError, with growing, jittered back-off between them.
  std::size_t connect_retries = 5;
  std::chrono::milliseconds retry_backoff{50};       // first pause; doubles, up to retry_backoff_max
  std::chrono::milliseconds retry_backoff_max{1'000};
  std::chrono::milliseconds timeout{0};  // default per-call timeout; 0: none (as arrpc)
  // A connection whose server takes no request bytes for this long is dropped and rebuilt; the
  // requests it had not fully sent go out again on the new one (they cannot have run).
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t connections = 1;     // calls are spread over this many pipelined connections
  // TLS to the server (tls.enabled): CA file or pinned certificate, client certificate. A
  // certificate the client refuses (or that refuses it) fails the calls with TlsError, not
  // retried; connection failures during the handshake are retried like any connect.
  TlsClientOptions tls{};
  // Prometheus metrics of this client's calls, served like a server's (a server and clients of
  // one process that name the same port share one endpoint).
  MetricsOptions metrics{};
  protocol::ProtocolLimits protocol_limits{};
  codec::DecodeLimits decode_limits{};
};

struct CallOptions {
  std::chrono::milliseconds timeout{0};  // 0: the client's default
  // Safe to run twice: resent on a new connection if the connection dies with the call in
  // flight. (A Command declared with CommandTraits{.idempotent = true} is always.)
  bool idempotent = false;
};

}  // namespace greenrpc
