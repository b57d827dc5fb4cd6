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

void ClientMetrics::write(metrics::TextWriter& w, std::string_view target, std::string_view id) const {
  using metrics::Label;
  const Label t{"target", target}, c_id{"client", id};
  const std::size_t commands = commands_.size(), outcomes = outcomes_.size();
  w.family("greenrpc_client_calls_total", "Calls finished, by command and outcome (ok, the server's error code, or the client's failure).", "counter");
  w.family("greenrpc_client_call_duration_seconds", "Time from a call's submission to its reply or failure, by command.", "histogram");
  auto each_command = [&](auto&& fn) {
    for (std::size_t c = 0; c < commands; ++c) fn(c, commands_.name(c));
    fn(commands_.other(), commands_.name(commands_.other()));
  };
  each_command([&](std::size_t c, std::string_view name) {
    std::uint64_t buckets[metrics::kLatencyBuckets];
    std::uint64_t count = 0;
    for (std::size_t b = 0; b < metrics::kLatencyBuckets; ++b) count += buckets[b] = bucket(c, b);
    if (count == 0) return;
    for (std::size_t o = 0; o < kMaxOutcomes; ++o) {
      if (o >= outcomes && o != outcomes_.other()) continue;
      const std::uint64_t n = calls(c, o);
      if (n != 0)
        w.sample("greenrpc_client_calls_total", {t, c_id, {"command", name}, {"outcome", outcomes_.name(o)}},
                 static_cast<double>(n));
    }
    const Label labels[] = {t, c_id, {"command", name}};
    w.histogram("greenrpc_client_call_duration_seconds", labels, metrics::kLatencyBounds, buckets,
                static_cast<double>(latency_ns(c)) / 1e9);
  });
  w.family("greenrpc_client_calls_in_flight", "Calls submitted and not finished.", "gauge");
  w.sample("greenrpc_client_calls_in_flight", {t, c_id}, static_cast<double>(in_flight()));
  w.family("greenrpc_client_retries_total", "Calls sent again (lost with their connection, refused by a stopping server).", "counter");
  w.sample("greenrpc_client_retries_total", {t, c_id}, static_cast<double>(retries.get()));
  w.family("greenrpc_client_reconnects_total", "Connections made after a connection's first.", "counter");
  w.sample("greenrpc_client_reconnects_total", {t, c_id}, static_cast<double>(reconnects.get()));
  w.family("greenrpc_client_connect_failures_total", "Connection attempts that failed.", "counter");
  w.sample("greenrpc_client_connect_failures_total", {t, c_id}, static_cast<double>(connect_failures.get()));
}

}  // namespace greenrpc::detail
