#pragma once
// How a server listens and behaves. Every field has a sensible default.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "greenrpc/codec/limits.hpp"
#include "greenrpc/metrics/options.hpp"
#include "greenrpc/protocol/limits.hpp"
#include "greenrpc/runtime/stack_pool.hpp"
#include "greenrpc/tls/tls_options.hpp"

namespace greenrpc {

// What a server with a message handler does with arrpc's signed requests (ServerOptions::
// arrpc_signed_requests).
enum class ArrpcSignedRequests {
  accept,  // verified against auth_secret (and previous_auth_secrets), then served
  refuse,  // answered arrpc's AuthException, never run: their signatures can be replayed
};

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
  // A connection with nothing in flight and nothing received for this long is closed (0: never).
  // Redis's `timeout` defaults to 0 (never), trusting clients to hold few connections; an RPC
  // server exposed to many clients needs its slots back from connections that went away silently
  // (a NAT that dropped the flow, a crashed client). greenrpc's client and redis-py reconnect on
  // their next call, so 5 minutes costs them one reconnect after a long pause.
  std::chrono::milliseconds idle_timeout{300'000};
  // Once the first byte of a request has arrived, the whole request must arrive within this
  // (like a web server's header timeout), or it is answered "-ERR request not completed ..." and
  // the connection closed. Bounds how long a peer trickling bytes can hold a slot and a buffer:
  // 30 s moves a maximal 64 MiB argument at 2.2 MB/s.
  std::chrono::milliseconds frame_timeout{30'000};
  // Bytes one connection may buffer for requests (Redis's client-query-buffer-limit, 1 GiB
  // there): one maximal argument (protocol_limits.max_bulk_bytes) plus 1 MiB of framing and
  // pipelined requests. Beyond it: "-ERR query buffer limit" and the connection closes.
  std::size_t query_buffer_limit = (64u << 20) + (1u << 20);
  // Bytes of replies one connection may hold unsent (Redis's client-output-buffer-limit, which
  // is unlimited for normal clients there): twice the largest argument, so an echo of a maximal
  // argument passes. Beyond it the connection closes (logged).
  std::size_t output_buffer_limit = 128u << 20;
  // Bytes all connections of the server may buffer together, requests and replies (Redis's
  // maxmemory-clients, off there). Over it, the connection holding the most is closed first with
  // "-ERR client memory budget exceeded"; the others keep being served. Server-wide: the
  // workers share one total, and the worker holding the largest connection evicts it. Buffers
  // count by their allocated size (they grow by doubling, up to the limits above), and so do the
  // msgpack object trees a running request's arguments build (a msgpack::object parameter or
  // message, ~16 bytes per input value): charged before they are built, so a small message of
  // many tiny values is evicted rather than allocated. 512 MiB: seven maximal requests at once, or about 50 KB per connection for
  // 10,000 ordinary ones.
  std::size_t client_memory_budget = 512u << 20;
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
  // arrpc clients (App::message_handler) sign a request as {"arrpc.sign": <hex HMAC-SHA256 of
  // data>, "data": <the packed message>}: nothing in it ties it to a connection or a moment (no
  // nonce, no sequence number, no deadline), so anyone who captured one can replay it, on any
  // connection, for as long as the secret lives. Where a replay matters (a message that moves
  // money, deletes, or is not idempotent), set `refuse`: every arrpc-signed request is answered
  // arrpc's AuthException without running, and clients move to greenrpc's own signed envelope
  // (RESP; bound to its connection's nonce and a sequence number, docs/protocol.md §12).
  // Unsigned arrpc requests are unaffected (refused anyway when a secret is set without
  // allow_unsigned).
  ArrpcSignedRequests arrpc_signed_requests = ArrpcSignedRequests::accept;
  // TLS (OpenSSL 3), on when tls.cert_file is set: where it is served (`port`, or a port of its
  // own), mutual TLS, versions, the handshake's deadline. Server::reload_tls() (SIGHUP under
  // App::run) loads the files again without dropping a connection.
  TlsServerOptions tls{};
  // Prometheus metrics (metrics.enabled): /metrics, /healthz and /readyz over HTTP on
  // metrics.host:metrics.port (127.0.0.1:9095, arrpc's port). /readyz answers 503 from the moment
  // a stop begins, while connections drain. Server::metrics_port() tells the port.
  MetricsOptions metrics{};
  protocol::ProtocolLimits protocol_limits{};
  // Bounds on each argument's msgpack, and how strictly scalars must match their types:
  // decode_limits.coercion = codec::Coercion::pydantic converts as Tino's server does ("5" for
  // an int). Its tree_memory is the server's own (the client memory budget): leave it null.
  codec::DecodeLimits decode_limits{};
  std::size_t fiber_stack_size = GuardedStackPool::kDefaultStackSize;
  // An idle connection (nothing buffered, nothing running) gives its fiber and stack back and
  // keeps only its socket and a small state (see README, "What a connection costs"); the next
  // bytes start a fiber again from the stack pool. Off: every connection keeps its fiber from
  // accept to close (one less fiber start per request for ping-pong clients; more memory idle).
  bool release_idle_fibers = true;
  // How long an idle connection keeps its fiber first, parked in read, in case its next request
  // comes soon: a ping-pong client then costs no fiber start per request (measured: 7% of
  // throughput at 50 clients without it). Bounds the fibers held by idle connections to
  // (requests per second) x linger. 0: released as soon as a batch's replies are written.
  std::chrono::milliseconds idle_fiber_linger{20};
};

}  // namespace greenrpc
