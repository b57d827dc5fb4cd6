#pragma once
// A client's metrics: calls by command and outcome, a latency histogram, retries, reconnects and
// calls in flight. Written only on the client's I/O loop thread (single-writer counters); read by
// a scrape from any thread. Commands are the first kMaxCommands names called, then "other";
// outcomes are "ok", the server's error codes and the client's own failures.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "greenrpc/metrics/bounded_labels.hpp"
#include "greenrpc/metrics/single_writer.hpp"
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc::detail {

struct PendingCall;

class ClientMetrics {
 public:
  static constexpr std::size_t kMaxCommands = 64;
  static constexpr std::size_t kMaxOutcomes = 32;

  ClientMetrics();

  // Any thread: the label index of a command name (for PendingCall::command_index).
  std::size_t command_index(std::string_view name) { return commands_.index_of(name); }
  // Loop thread: a call finished (reply, error reply or failure).
  void finished(const PendingCall& call);
  void queued() noexcept { in_flight_.add(1); }  // loop thread: a call entered a connection's queue
  metrics::SingleWriterCounter retries;     // sends of a call after its first (lost, refused, cancelled)
  metrics::SingleWriterCounter reconnects;  // connections made after a connection's first
  metrics::SingleWriterCounter connect_failures;  // connection attempts that failed

  // Scrape side.
  const metrics::BoundedLabels& commands() const noexcept { return commands_; }
  const metrics::BoundedLabels& outcomes() const noexcept { return outcomes_; }
  std::uint64_t calls(std::size_t command, std::size_t outcome) const noexcept {
    return calls_[command * kMaxOutcomes + outcome].get();
  }
  std::uint64_t bucket(std::size_t command, std::size_t b) const noexcept {
    return buckets_[command * metrics::kLatencyBuckets + b].get();
  }
  std::uint64_t latency_ns(std::size_t command) const noexcept { return latency_ns_[command].get(); }
  std::uint64_t in_flight() const noexcept { return in_flight_.get() - done_.get(); }

 private:
  metrics::BoundedLabels commands_;
  metrics::BoundedLabels outcomes_;
  std::unique_ptr<metrics::SingleWriterCounter[]> calls_;
  std::unique_ptr<metrics::SingleWriterCounter[]> buckets_;
  std::unique_ptr<metrics::SingleWriterCounter[]> latency_ns_;
  metrics::SingleWriterCounter in_flight_;  // queued so far
  metrics::SingleWriterCounter done_;       // finished so far
};

}  // namespace greenrpc::detail
