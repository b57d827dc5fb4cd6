// The server's metrics in Prometheus's text format: ServerCore::write_metrics sums the workers'
// counters (server_metrics.hpp) at scrape time. Every series carries `port` (the server's port),
// so two servers of one process stay apart.
#include <string>
#include <unordered_map>
#include <vector>

#include "greenrpc/metrics/text_writer.hpp"
#include "server_core.hpp"

namespace greenrpc {

void ServerCore::write_metrics(metrics::TextWriter& w) const {
  using metrics::Label;
  const std::string port_text = std::to_string(port());
  const Label port_label{"port", port_text};
  const std::size_t commands = command_labels();
  const std::size_t outcome_count = outcomes_.size();
  constexpr std::size_t kB = metrics::kLatencyBuckets;

  std::vector<std::uint64_t> requests(commands * OutcomeTable::kMax, 0), buckets(commands * kB, 0);
  std::vector<std::uint64_t> latency_ns(commands, 0), request_bytes(commands, 0), reply_bytes(commands, 0);
  std::int64_t in_flight = 0;
  std::uint64_t protocol_errors = 0, deadlines = 0;
  std::vector<std::uint64_t> refused(static_cast<std::size_t>(RefusedReason::count), 0);
  std::vector<std::uint64_t> auth(static_cast<std::size_t>(AuthFailure::count), 0);
  std::vector<std::uint64_t> tls(kTlsReasons, 0);
  struct Busy {
    unsigned worker;
    double seconds;
  };
  std::vector<Busy> busy;
  const double wall = std::chrono::duration<double>(Clock::now() - started_at_).count();
  for_each_worker([&](const WorkerMetrics& m, unsigned index, std::uint64_t idle_ns) {
    for (std::size_t c = 0; c < commands; ++c) {
      for (std::size_t o = 0; o < OutcomeTable::kMax; ++o) requests[c * OutcomeTable::kMax + o] += m.requests(c, o);
      for (std::size_t b = 0; b < kB; ++b) buckets[c * kB + b] += m.bucket(c, b);
      latency_ns[c] += m.latency_ns(c);
      request_bytes[c] += m.request_bytes(c);
      reply_bytes[c] += m.reply_bytes(c);
    }
    in_flight += m.in_flight.load(std::memory_order_relaxed);
    protocol_errors += m.protocol_errors.get();
    deadlines += m.deadlines_exceeded.get();
    for (std::size_t i = 0; i < refused.size(); ++i) refused[i] += m.refused[i].get();
    for (std::size_t i = 0; i < auth.size(); ++i) auth[i] += m.auth_failures[i].get();
    for (std::size_t i = 0; i < tls.size(); ++i) tls[i] += m.tls_handshake_failures[i].get();
    busy.push_back({index, std::max(0.0, wall - static_cast<double>(idle_ns) / 1e9)});
  });

  w.family("greenrpc_server_requests_total", "Requests served, by command and outcome (ok or the error code).", "counter");
  for (std::size_t c = 0; c < commands; ++c)
    for (std::size_t o = 0; o < OutcomeTable::kMax; ++o) {
      const std::uint64_t n = requests[c * OutcomeTable::kMax + o];
      if (n == 0 || (o >= outcome_count && o != OutcomeTable::kOther)) continue;
      w.sample("greenrpc_server_requests_total", {port_label, {"command", command_label(c)}, {"outcome", outcomes_.name(o)}},
               static_cast<double>(n));
    }
  w.family("greenrpc_server_request_duration_seconds", "Time from a request's arrival to its reply, by command.",
           "histogram");
  w.family("greenrpc_server_request_bytes_total", "Bytes of requests (their elements), by command.", "counter");
  w.family("greenrpc_server_reply_bytes_total", "Bytes of replies, by command.", "counter");
  for (std::size_t c = 0; c < commands; ++c) {
    std::uint64_t count = 0;
    for (std::size_t b = 0; b < kB; ++b) count += buckets[c * kB + b];
    if (count == 0) continue;
    const Label labels[] = {port_label, {"command", command_label(c)}};
    w.histogram("greenrpc_server_request_duration_seconds", labels, metrics::kLatencyBounds,
                std::span<const std::uint64_t>(&buckets[c * kB], kB), static_cast<double>(latency_ns[c]) / 1e9);
    w.sample("greenrpc_server_request_bytes_total", labels, static_cast<double>(request_bytes[c]));
    w.sample("greenrpc_server_reply_bytes_total", labels, static_cast<double>(reply_bytes[c]));
  }
  w.family("greenrpc_server_requests_in_flight", "Requests whose handler is running now.", "gauge");
  w.sample("greenrpc_server_requests_in_flight", {port_label}, static_cast<double>(in_flight));
  w.family("greenrpc_server_connections", "Open connections.", "gauge");
  w.sample("greenrpc_server_connections", {port_label}, static_cast<double>(open_connections.load()));
  w.family("greenrpc_server_dormant_connections", "Open connections idle without a fiber.", "gauge");
  w.sample("greenrpc_server_dormant_connections", {port_label}, static_cast<double>(dormant_connections()));
  w.family("greenrpc_server_connections_accepted_total", "Connections accepted (refused ones excluded).", "counter");
  w.sample("greenrpc_server_connections_accepted_total", {port_label}, static_cast<double>(total_connections.load()));
  w.family("greenrpc_server_connections_refused_total",
           "Connections refused at accept (max_connections) or closed to keep the client memory budget.", "counter");
  w.sample("greenrpc_server_connections_refused_total", {port_label, {"reason", "max_connections"}},
           static_cast<double>(refused[static_cast<std::size_t>(RefusedReason::max_connections)]));
  w.sample("greenrpc_server_connections_refused_total", {port_label, {"reason", "client_memory_budget"}},
           static_cast<double>(refused[static_cast<std::size_t>(RefusedReason::client_memory_budget)]));
  w.family("greenrpc_server_client_memory_bytes", "Bytes all connections buffer (the client memory budget's count).",
           "gauge");
  w.sample("greenrpc_server_client_memory_bytes", {port_label}, static_cast<double>(buffered_total.load()));
  w.family("greenrpc_server_protocol_errors_total", "Requests that could not be framed (the connection was closed).",
           "counter");
  w.sample("greenrpc_server_protocol_errors_total", {port_label}, static_cast<double>(protocol_errors));
  w.family("greenrpc_server_auth_failures_total", "Refused AUTH attempts and refused signatures.", "counter");
  w.sample("greenrpc_server_auth_failures_total", {port_label, {"kind", "auth"}},
           static_cast<double>(auth[static_cast<std::size_t>(AuthFailure::auth)]));
  w.sample("greenrpc_server_auth_failures_total", {port_label, {"kind", "signature"}},
           static_cast<double>(auth[static_cast<std::size_t>(AuthFailure::signature)]));
  w.family("greenrpc_server_deadlines_exceeded_total", "Requests answered DEADLINE_EXCEEDED.", "counter");
  w.sample("greenrpc_server_deadlines_exceeded_total", {port_label}, static_cast<double>(deadlines));
  if (tls_) {
    w.family("greenrpc_server_tls_handshake_failures_total", "TLS handshakes refused or timed out, by reason.", "counter");
    for (std::size_t i = 0; i < tls.size(); ++i)
      w.sample("greenrpc_server_tls_handshake_failures_total", {port_label, {"reason", tls_failure_label(i)}},
               static_cast<double>(tls[i]));
  }
  if (options_.metrics.peer_labels) {
    std::unordered_map<std::string, std::uint64_t> by_peer;
    for_each_worker([&](const WorkerMetrics& m, unsigned, std::uint64_t) {
      m.for_each_peer([&](const std::string& host, std::uint64_t n) { by_peer[host] += n; });
    });
    w.family("greenrpc_server_requests_by_peer_total",
             "Requests by peer address (MetricsOptions::peer_labels: opt-in, one series per client host).", "counter");
    for (const auto& [host, n] : by_peer)
      w.sample("greenrpc_server_requests_by_peer_total", {port_label, {"peer", host}}, static_cast<double>(n));
  }
  w.family("greenrpc_server_worker_busy_seconds_total", "Time each worker thread was not waiting for work.", "counter");
  std::lock_guard lock(busy_mutex_);
  if (busy_reported_.size() < busy.size()) busy_reported_.resize(busy.size(), 0.0);
  for (Busy& b : busy) {
    // A counter never goes down: a reading taken as a worker wakes may undercount its sleep.
    double& reported = busy_reported_[b.worker < busy_reported_.size() ? b.worker : 0];
    b.seconds = std::max(b.seconds, reported);
    reported = b.seconds;
    const std::string worker = std::to_string(b.worker);
    w.sample("greenrpc_server_worker_busy_seconds_total", {port_label, {"worker", worker}}, b.seconds);
  }
}

}  // namespace greenrpc
