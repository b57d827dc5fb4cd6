#pragma once
// A server's metrics, per worker: each worker thread writes only its own WorkerMetrics (plain
// relaxed stores, no read-modify-write shared between cores), and a scrape sums them
// (ServerCore's collector, any thread). Labels are bounded: commands come from the route table
// (every unknown name is one "unknown"), outcomes are "ok", the framework's error codes and the
// first handlers' own codes seen (then "other").
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <string_view>

#include "greenrpc/metrics/bounded_labels.hpp"
#include "greenrpc/metrics/single_writer.hpp"
#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/tls/tls_error.hpp"

namespace greenrpc {

using metrics::SingleWriterCounter;
using metrics::kLatencyBounds;

// Outcome label values: index 0 is "ok", then the framework's codes, then handlers' own codes
// as first seen, up to kMax; the last index (kOther) is "other". Thread-safe.
class OutcomeTable : public metrics::BoundedLabels {
 public:
  static constexpr std::size_t kMax = 48;
  static constexpr std::size_t kOther = kMax - 1;
  OutcomeTable();
  // "" (no error) is ok (0).
  std::size_t index_of(std::string_view code) { return code.empty() ? 0 : BoundedLabels::index_of(code); }
};

enum class RefusedReason : std::size_t { max_connections, client_memory_budget, count };
enum class AuthFailure : std::size_t { auth, signature, count };
inline constexpr std::size_t kTlsReasons = 9;  // TlsError::Reason values, plus timeout

class WorkerMetrics {
 public:
  // `commands`: the route table's size plus one for "unknown".
  explicit WorkerMetrics(std::size_t commands);

  // One request: its command's index, outcome index, time from arrival to reply, sizes.
  void record(std::size_t command, std::size_t outcome, Clock::duration latency, std::size_t request_bytes,
              std::size_t reply_bytes) noexcept;

  std::size_t commands() const noexcept { return commands_; }
  std::uint64_t requests(std::size_t command, std::size_t outcome) const noexcept {
    return requests_[command * OutcomeTable::kMax + outcome].get();
  }
  std::uint64_t bucket(std::size_t command, std::size_t b) const noexcept {
    return buckets_[command * (kLatencyBounds.size() + 1) + b].get();
  }
  std::uint64_t latency_ns(std::size_t command) const noexcept { return latency_ns_[command].get(); }
  std::uint64_t request_bytes(std::size_t command) const noexcept { return request_bytes_[command].get(); }
  std::uint64_t reply_bytes(std::size_t command) const noexcept { return reply_bytes_[command].get(); }

  // Written by the worker's thread only (single-writer counters and gauges).
  std::atomic<std::int64_t> in_flight{0};
  SingleWriterCounter protocol_errors;
  SingleWriterCounter deadlines_exceeded;
  std::array<SingleWriterCounter, static_cast<std::size_t>(RefusedReason::count)> refused;
  std::array<SingleWriterCounter, static_cast<std::size_t>(AuthFailure::count)> auth_failures;
  std::array<SingleWriterCounter, kTlsReasons> tls_handshake_failures;  // by TlsError::Reason, last: timeout

  // MetricsOptions::peer_labels: requests by peer address (host only: a port per connection
  // would make every connection a series). Opt-in, because the set of peers is unbounded; a
  // mutex, because a scrape reads the map while the worker adds to it.
  void count_peer(const std::string& host);
  template <class F>
  void for_each_peer(F&& fn) const {
    std::lock_guard lock(peers_mutex_);
    for (const auto& [host, n] : peers_) fn(host, n);
  }

  void add_in_flight(std::int64_t d) noexcept {
    in_flight.store(in_flight.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }

 private:
  std::size_t commands_;
  std::unique_ptr<SingleWriterCounter[]> requests_;    // [command][outcome]
  std::unique_ptr<SingleWriterCounter[]> buckets_;     // [command][bucket, the last +Inf]
  std::unique_ptr<SingleWriterCounter[]> latency_ns_;  // [command]
  std::unique_ptr<SingleWriterCounter[]> request_bytes_;
  std::unique_ptr<SingleWriterCounter[]> reply_bytes_;
  mutable std::mutex peers_mutex_;
  std::unordered_map<std::string, std::uint64_t> peers_;
};

// The label value of a TLS handshake failure (tls_handshake_failures' index).
std::string_view tls_failure_label(std::size_t index) noexcept;
std::size_t tls_failure_index(TlsError::Reason reason) noexcept;
inline constexpr std::size_t kTlsTimeoutIndex = kTlsReasons - 1;

}  // namespace greenrpc
