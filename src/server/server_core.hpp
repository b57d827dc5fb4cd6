#pragma once
// The running server behind a Server handle: its workers, dispatch table and counters.
#include <atomic>
#include <chrono>
#include <memory>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "greenrpc/envelope/hmac_key.hpp"
#include "greenrpc/server/app.hpp"
#include "greenrpc/server/options.hpp"
#include "greenrpc/metrics/http_endpoint.hpp"
#include "greenrpc/metrics/registry.hpp"
#include "greenrpc/metrics/text_writer.hpp"
#include "greenrpc/tls/tls_context.hpp"
#include "listener_spec.hpp"
#include "server_metrics.hpp"

namespace greenrpc {

class Worker;
struct BuiltinCall;
using BuiltinFn = void (*)(BuiltinCall&);

// What a command name resolves to: a user handler or a built-in.
struct Route {
  const RegisteredCommand* command = nullptr;
  BuiltinFn builtin = nullptr;
  std::size_t index = 0;  // its metrics label: ServerCore::command_label(index)
};

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(std::shared_ptr<const AppDefinition> app, ServerOptions options);
  ~ServerCore();

  // Runs the startup hooks, starts the workers and their listeners. Throws if it cannot listen.
  // The default serves RESP on options().host:port.
  void start();
  void start(std::vector<ListenerSpec> listeners);
  // See Server::stop(): bounded by grace + options().stop_timeout.
  void stop(std::chrono::milliseconds grace);
  // stop() on a thread of the core's own; returns at once.
  void request_stop();
  bool stop_requested() const noexcept { return stop_requested_.load(); }
  // Ends the grace period of a stop in progress now.
  void skip_grace();
  // The core whose worker runs on the calling thread (set by each worker's thread), else null.
  static ServerCore* serving_on_this_thread() noexcept;
  static void set_serving_on_this_thread(ServerCore* core) noexcept;

  // The port TLS is served on (the first listener's unless ServerOptions::tls.port); 0 without TLS.
  std::uint16_t tls_port() const noexcept {
    return tls_listener_ < ports_.size() ? ports_[tls_listener_] : 0;
  }
  // Loads the TLS certificate, key and CA files again (see Server::reload_tls).
  void reload_tls();
  // The first listener's bound port.
  std::uint16_t port() const noexcept { return ports_.empty() ? 0 : ports_.front(); }
  // Every listener's bound port, in the order given to start().
  const std::vector<std::uint16_t>& ports() const noexcept { return ports_; }
  bool running() const noexcept { return running_.load(); }

  // `lower_name` must be lower-case; nullptr when unknown.
  const Route* route(std::string_view lower_name) const;
  // The App's message handler (arrpc clients); nullptr when it has none.
  const Route* message_route() const noexcept { return message_route_ ? &*message_route_ : nullptr; }

  const AppDefinition& app() const noexcept { return *app_; }
  // Accepted signing keys, current first; empty when signing is off.
  const std::vector<HmacKey>& signing_keys() const noexcept { return keys_; }
  // Unsigned requests to user commands are refused.
  bool signing_required() const noexcept { return !keys_.empty() && !options_.allow_unsigned; }
  const ServerOptions& options() const noexcept { return options_; }
  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::uint64_t> total_connections{0};
  // Commands run so far, summed over the workers' own counters (INFO).
  std::uint64_t total_commands() const noexcept;
  // Open connections holding no fiber right now (idle, see ServerOptions::release_idle_fibers).
  std::size_t dormant_connections() const noexcept;
  std::atomic<std::uint64_t> next_connection_id{1};
  // The client memory budget, server-wide: bytes in all connections' buffers (Worker updates).
  std::atomic<std::int64_t> buffered_total{0};
  // Bytes that evicted connections, still closing, are releasing, summed over the workers but
  // `self` (which counts its own).
  std::size_t releasing_bytes(const Worker* self) const;
  // Over budget, seen by `self` whose largest holder has `mine` bytes: when another worker
  // published a larger one, asks that worker to evict (posted, once until it runs) and returns
  // true; false when `self` should evict its own.
  bool ask_to_evict(Worker* self, std::size_t mine);
  Clock::time_point started_at() const noexcept { return started_at_; }

  // Metrics labels: each route's index names a command; the last index is every unknown name.
  std::size_t command_labels() const noexcept { return command_labels_.size(); }
  std::size_t unknown_command_index() const noexcept { return command_labels_.size() - 1; }
  std::string_view command_label(std::size_t index) const noexcept { return command_labels_[index]; }
  OutcomeTable& outcomes() noexcept { return outcomes_; }
  const OutcomeTable& outcomes() const noexcept { return outcomes_; }
  // Calls fn(metrics, worker index, nanoseconds its thread slept) for each worker (any thread;
  // the workers exist from start() until stop()).
  void for_each_worker(const std::function<void(const WorkerMetrics&, unsigned, std::uint64_t)>& fn) const;
  // The server's series (server_metrics_exposition.cpp); any thread, while the workers exist.
  void write_metrics(metrics::TextWriter& w) const;
  // /readyz: serving and no stop begun.
  bool ready() const noexcept { return running_.load() && !stop_requested_.load(); }
  // The metrics endpoint's port; 0 without metrics.
  std::uint16_t metrics_port() const noexcept { return metrics_port_.load(); }

 private:
  std::shared_ptr<const AppDefinition> app_;
  ServerOptions options_;
  std::unordered_map<std::string, Route, TransparentStringHash, std::equal_to<>> routes_;
  std::optional<Route> message_route_;
  std::vector<std::string> command_labels_;  // by Route::index, "unknown" last
  OutcomeTable outcomes_;
  std::vector<HmacKey> keys_;
  std::vector<std::unique_ptr<Worker>> workers_;
  // The workers as the others see them for budget decisions: set at start, emptied (under the
  // lock) before any worker is destroyed, so a worker still running (a stuck one left behind)
  // never reaches a destroyed one.
  mutable std::mutex peers_mutex_;
  std::vector<Worker*> peers_;
  std::vector<std::uint16_t> ports_;
  std::atomic<bool> running_{false};
  std::mutex lifecycle_mutex_;
  bool stopped_ = false;
  std::atomic<bool> stop_requested_{false};
  std::thread stopper_;  // request_stop()'s; joined by the destructor
  std::mutex skip_mutex_;
  std::condition_variable skip_cv_;
  bool skip_grace_ = false;
  Clock::time_point started_at_ = Clock::now();
  // TLS: the reloadable context, and which listener serves it (ports_ index; SIZE_MAX: none).
  std::shared_ptr<ReloadableTlsContext> tls_;
  // Metrics: the collector's registration (reset before the workers go) and the endpoint.
  metrics::Registry::Handle metrics_handle_;
  std::shared_ptr<metrics::HttpEndpoint> metrics_endpoint_;
  std::atomic<std::uint16_t> metrics_port_{0};
  // /readyz's answer for this server from start() until the Server is gone: false once a stop
  // began (the collector's registration ends with stop(); this one lives on, so an endpoint a
  // client still shares does not say "ready" for a stopped server).
  metrics::Registry::Handle readiness_handle_;
  mutable std::mutex busy_mutex_;
  mutable std::vector<double> busy_reported_;  // per worker: busy seconds last exposed
  std::size_t tls_listener_ = SIZE_MAX;
};

}  // namespace greenrpc
