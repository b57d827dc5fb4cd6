#include "server_metrics.hpp"

#include <algorithm>

#include "greenrpc/rpc/error_codes.hpp"

namespace greenrpc {

OutcomeTable::OutcomeTable()
    : BoundedLabels({"ok", error_code::invalid_command, error_code::num_arg_mismatch, error_code::invalid_msgpack,
                     error_code::validation_error, error_code::permission_denied, error_code::unexpected_error,
                     error_code::generic, error_code::auth_error, error_code::deadline_exceeded, error_code::rpc_error,
                     error_code::shutting_down, error_code::cancelled},
                    kMax) {}

WorkerMetrics::WorkerMetrics(std::size_t commands)
    : commands_(commands),
      requests_(std::make_unique<SingleWriterCounter[]>(commands * OutcomeTable::kMax)),
      buckets_(std::make_unique<SingleWriterCounter[]>(commands * (kLatencyBounds.size() + 1))),
      latency_ns_(std::make_unique<SingleWriterCounter[]>(commands)),
      request_bytes_(std::make_unique<SingleWriterCounter[]>(commands)),
      reply_bytes_(std::make_unique<SingleWriterCounter[]>(commands)) {}

void WorkerMetrics::record(std::size_t command, std::size_t outcome, Clock::duration latency,
                           std::size_t request_bytes, std::size_t reply_bytes) noexcept {
  const std::int64_t ns = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
  requests_[command * OutcomeTable::kMax + outcome].add();
  // le is inclusive: the first bound >= ns.
  const std::size_t b = metrics::latency_bucket(ns);
  buckets_[command * (kLatencyBounds.size() + 1) + b].add();
  latency_ns_[command].add(static_cast<std::uint64_t>(ns));
  request_bytes_[command].add(request_bytes);
  reply_bytes_[command].add(reply_bytes);
}

void WorkerMetrics::count_peer(const std::string& host) {
  std::lock_guard lock(peers_mutex_);
  ++peers_[host];
}

std::string_view tls_failure_label(std::size_t index) noexcept {
  static constexpr std::string_view kNames[kTlsReasons] = {
      "unknown_ca", "wrong_host", "expired", "invalid_certificate", "client_cert_required", "peer_cert_rejected",
      "not_tls",    "protocol",   "timeout"};
  return index < kTlsReasons ? kNames[index] : "protocol";
}

std::size_t tls_failure_index(TlsError::Reason reason) noexcept {
  using R = TlsError::Reason;
  switch (reason) {
    case R::unknown_ca: return 0;
    case R::wrong_host: return 1;
    case R::expired: return 2;
    case R::invalid_certificate: return 3;
    case R::client_cert_required: return 4;
    case R::peer_cert_rejected: return 5;
    case R::not_tls: return 6;
    case R::protocol:
    case R::configuration: return 7;
  }
  return 7;
}

}  // namespace greenrpc
