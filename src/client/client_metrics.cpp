#include "client_metrics.hpp"

#include "greenrpc/client/errors.hpp"
#include "greenrpc/client/pending_call.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/tls/tls_error.hpp"

namespace greenrpc::detail {
namespace {

// The client-side outcome of a failed call (no reply came).
std::string_view failure_outcome(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const TlsError&) {
    return "tls_error";
  } catch (const ConnectionLostError&) {
    return "connection_lost";
  } catch (const ConnectError&) {
    return "connect_error";
  } catch (const AuthError&) {
    return "auth_error";
  } catch (const CancelledError&) {
    return "cancelled";
  } catch (const TimeoutError&) {
    return "timeout";
  } catch (...) {
  }
  return "error";
}

}  // namespace

ClientMetrics::ClientMetrics()
    : commands_({}, kMaxCommands),
      outcomes_({"ok", "timeout", "connect_error", "connection_lost", "tls_error", "auth_error", "cancelled", "error"},
                kMaxOutcomes),
      calls_(std::make_unique<metrics::SingleWriterCounter[]>(kMaxCommands * kMaxOutcomes)),
      buckets_(std::make_unique<metrics::SingleWriterCounter[]>(kMaxCommands * metrics::kLatencyBuckets)),
      latency_ns_(std::make_unique<metrics::SingleWriterCounter[]>(kMaxCommands)) {}

void ClientMetrics::finished(const PendingCall& call) {
  std::string_view outcome = "ok";
  if (call.failure) {
    outcome = failure_outcome(call.failure);
  } else if (call.abandoned.load(std::memory_order_relaxed)) {
    outcome = "timeout";  // the caller gave up before the reply came
  } else if (call.reply.type == protocol::RespValue::Type::error) {
    const std::string& line = call.reply.str;
    outcome = std::string_view(line).substr(0, line.find(' '));  // the code: first word
  }
  const std::size_t o = outcomes_.index_of(outcome);
  const std::size_t c = call.command_index;
  calls_[c * kMaxOutcomes + o].add();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - call.started).count();
  buckets_[c * metrics::kLatencyBuckets + metrics::latency_bucket(ns)].add();
  latency_ns_[c].add(static_cast<std::uint64_t>(ns < 0 ? 0 : ns));
  done_.add(1);
}

}  // namespace greenrpc::detail
