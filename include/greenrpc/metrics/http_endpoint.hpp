#pragma once
// The HTTP/1.1 server behind MetricsOptions: Prometheus scrapes and health probes.
//
//   GET /metrics  200 text/plain; version=0.0.4; charset=utf-8: registry.render() followed by
//                 the process metrics (write_process_metrics)
//   GET /healthz  200 "ok" while the endpoint serves
//   GET /readyz   200 "ready", or 503 "draining" once registry.ready() is false (a server turns
//                 not-ready as soon as its drain starts, before stop() closes connections)
//   HEAD          the same status and headers, no body
//   other paths   404; other methods 405 (with Allow: GET, HEAD), unknown methods 501
// The query string is ignored. Malformed or oversized requests get 400 (malformed), 413 (a
// request with a body), 414 (target over 4 KiB), 431 (head over 8 KiB or over 100 fields) or 505
// (not HTTP/1.x), and the connection is closed after the response (see
// src/protocol/http_request_parser.hpp).
//
// Runs on its own EventLoopThread (thread name "greenrpc-http"), a fiber per connection, so a slow scrape
// never delays a server's workers. Bounded:
// * at most options.max_connections connections at once: one more is answered 503 (no fiber
//   is started for it) and closed;
// * a request head must arrive within options.request_timeout from when the connection starts
//   waiting for it (idle keep-alive time included); a partial head is then answered 408 and the
//   connection closed, an idle connection just closed. Every response write has the same bound;
// * keep-alive is honoured for up to 100 requests per connection, then `Connection: close`;
// * pipelined requests are answered in order.
// The process metrics are written by the endpoint into each /metrics response (not registered
// in the registry): two endpoints serving one registry each show them once, and render() alone
// does not include them.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "greenrpc/metrics/options.hpp"
#include "greenrpc/metrics/registry.hpp"

namespace greenrpc::metrics {

class HttpEndpoint {
 public:
  // The endpoint serving options.host:options.port in this process, started if there is none:
  // a server and a client of one process asking for the same host and port share one endpoint,
  // which stops when the last shared_ptr to it goes. The first caller's options (limits,
  // timeouts) apply. Port 0 starts a new endpoint on a free port (port() tells which); later
  // callers naming that port share it. `enabled` is not looked at: the caller decides.
  // Hosts are compared as written: "localhost" and "127.0.0.1" are two endpoints (the second
  // bind then fails).
  // Throws IoError when the address cannot be bound (in use by another process, or by an
  // endpoint of this process serving another registry). `registry` must outlive the endpoint.
  // Blocks the calling thread until the socket is bound (and, if the previous endpoint of that
  // address is still stopping, until it has stopped).
  static std::shared_ptr<HttpEndpoint> shared(const MetricsOptions& options, Registry& registry = Registry::global());

  ~HttpEndpoint();  // stop()
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // The bound port (the one the kernel picked when options.port was 0).
  std::uint16_t port() const noexcept;
  const MetricsOptions& options() const noexcept;
  // Connections being served now (for tests and diagnostics).
  std::size_t open_connections() const noexcept;

  // Closes the listening socket and every connection (a response being written is cut), then
  // waits for the endpoint's thread, at most 1 s; a thread still busy then (a collector that
  // does not return) is left running, detached, and logged. The address leaves the shared
  // table, so shared() binds it anew: holders of this endpoint keep a stopped one. Thread-safe
  // and idempotent. Not from a collector or ready function (std::logic_error: it would wait for
  // itself).
  void stop();

 private:
  struct Impl;
  HttpEndpoint(const MetricsOptions& options, Registry& registry);
  void forget() noexcept;  // leaves the shared table

  Impl* impl_;
  bool leaked_ = false;  // its thread was left running: impl_ is never deleted
};

}  // namespace greenrpc::metrics
