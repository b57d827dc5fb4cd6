#pragma once
// Where and how a server or client serves its metrics (HttpEndpoint: /metrics, /healthz, /readyz).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace greenrpc::metrics {

struct MetricsOptions {
  // Off by default: nothing is counted and no port is opened. The owner (server or client)
  // decides from this flag; HttpEndpoint::shared() serves whatever it is asked to.
  bool enabled = false;
  // Address the HTTP endpoint listens on. Loopback by default: metrics describe the process
  // (commands, peers, memory); expose them wider on purpose (e.g. "0.0.0.0" for a scraper on
  // another host).
  std::string host = "127.0.0.1";
  // 9095, arrpc's metrics port. 0: pick a free port (HttpEndpoint::port() tells which). A
  // server and a client of one process asking for the same host and port share one endpoint.
  std::uint16_t port = 9095;
  // HTTP connections served at once; one more is answered 503 and closed. Scrapers and probes
  // hold one or two each.
  std::size_t max_connections = 16;
  // Bounds every HTTP wait: a request head must arrive in full within this from when the
  // connection starts waiting for it (so an idle keep-alive connection or a slow-loris peer is
  // closed after it), and a response must be written within it.
  std::chrono::milliseconds request_timeout{5000};
  // Opt-in per-peer labels (e.g. the peer's address) on the metrics that can carry them. Off by
  // default: one series per peer is unbounded cardinality (arrpc's `remote_address`).
  bool peer_labels = false;
};

}  // namespace greenrpc::metrics

namespace greenrpc {
using metrics::MetricsOptions;  // as ServerOptions and ClientOptions name it
}  // namespace greenrpc
