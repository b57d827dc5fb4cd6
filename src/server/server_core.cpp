#include "server_core.hpp"

#include "arrpc_protocol.hpp"
#include "builtin_commands.hpp"
#include "greenrpc/tls/tls_error.hpp"
#include "greenrpc/runtime/log.hpp"
#include "resp_protocol.hpp"
#include "sniffing_protocol.hpp"
#include "tls_protocol.hpp"
#include "worker.hpp"

namespace greenrpc {

ServerCore::ServerCore(std::shared_ptr<const AppDefinition> app, ServerOptions options)
    : app_(std::move(app)), options_(std::move(options)) {
  if (options_.workers == 0) options_.workers = 1;
  if (!options_.auth_secret.empty()) {
    keys_.emplace_back(options_.auth_secret);
    for (const auto& s : options_.previous_auth_secrets)
      if (!s.empty()) keys_.emplace_back(s);
  } else if (!options_.previous_auth_secrets.empty()) {
    throw std::invalid_argument("greenrpc: previous_auth_secrets without an auth_secret");
  }
  if (options_.tls.enabled()) {
    tls_ = std::make_shared<ReloadableTlsContext>(options_.tls);  // fails fast on a bad file
    if (options_.tls.port && *options_.tls.port != 0 && *options_.tls.port == options_.port)
      throw std::invalid_argument("greenrpc: tls.port is the same as port; leave tls.port unset to serve TLS on port");
  } else if (options_.tls.port || options_.tls.accept_plaintext) {
    throw std::invalid_argument("greenrpc: tls.port or tls.accept_plaintext without tls.cert_file");
  }
  // One table: built-ins, then user commands (which may shadow the courtesy built-ins; the
  // registry already refused the reserved names).
  for (const BuiltinCommand& b : builtin_commands()) routes_[std::string(b.name)] = Route{nullptr, b.fn};
  for (const CommandInfo* info : app_->registry.all()) {
    std::string key = CommandRegistry::lower(info->name);
    routes_[key] = Route{app_->registry.find_lower(key), nullptr};
  }
  for (auto& [name, route] : routes_) {
    route.index = command_labels_.size();
    command_labels_.push_back(route.command ? route.command->info->name : name);
  }
  if (app_->message_handler) {
    // Its own label, which no command may share (two series would carry one name).
    if (routes_.contains(kMessageHandlerName))
      throw std::invalid_argument("greenrpc: a command named '" + std::string(kMessageHandlerName) +
                                  "' clashes with the message handler's name");
    message_route_ = Route{&*app_->message_handler, nullptr, command_labels_.size()};
    command_labels_.emplace_back(kMessageHandlerName);
  }
  command_labels_.push_back("(unknown)");  // every name not registered, one label value
}

ServerCore::~ServerCore() {
  stop(options_.grace_period);
  if (stopper_.joinable()) {
    if (stopper_.get_id() == std::this_thread::get_id())
      stopper_.detach();  // the stopper held the last reference: it ends right after this
    else
      stopper_.join();
  }
}

namespace {
thread_local ServerCore* t_serving_core = nullptr;
}

ServerCore* ServerCore::serving_on_this_thread() noexcept { return t_serving_core; }
void ServerCore::set_serving_on_this_thread(ServerCore* core) noexcept { t_serving_core = core; }

void ServerCore::request_stop() {
  if (stop_requested_.exchange(true)) return;
  // The stopper thread keeps the core alive; a stop() or destructor running meanwhile waits on
  // the lifecycle mutex and finds the work done.
  std::lock_guard lock(skip_mutex_);
  stopper_ = std::thread([self = shared_from_this()] { self->stop(self->options_.grace_period); });
}

void ServerCore::skip_grace() {
  std::lock_guard lock(skip_mutex_);
  skip_grace_ = true;
  skip_cv_.notify_all();
}

std::size_t ServerCore::releasing_bytes(const Worker* self) const {
  std::lock_guard lock(peers_mutex_);
  std::size_t n = 0;
  for (const Worker* w : peers_)
    if (w != self) n += w->releasing.load(std::memory_order_relaxed);
  return n;
}

bool ServerCore::ask_to_evict(Worker* self, std::size_t mine) {
  std::lock_guard lock(peers_mutex_);
  Worker* holder = nullptr;
  std::size_t most = mine;
  for (Worker* w : peers_) {
    if (w == self) continue;
    const std::size_t theirs = w->largest_holder.load(std::memory_order_relaxed);
    // Ties go to the lower index, so two workers over at once do not both evict.
    if (theirs > most || (theirs == most && theirs > 0 && w->index() < self->index())) {
      most = theirs;
      holder = w;
    }
  }
  if (!holder) return false;
  // Posted once until it runs; the holder re-checks the budget with its exact sizes. A holder
  // whose thread does not get to it soon (a handler keeps it busy) or has stopped: evict here.
  const std::int64_t now = Clock::now().time_since_epoch().count();
  constexpr std::int64_t kAskPatience = std::chrono::nanoseconds(std::chrono::milliseconds(20)).count();
  if (holder->eviction_asked.exchange(true, std::memory_order_relaxed))
    return now - holder->eviction_asked_at.load(std::memory_order_relaxed) < kAskPatience;
  holder->eviction_asked_at.store(now, std::memory_order_relaxed);
  if (!holder->post([holder] { holder->enforce_budget(); })) {
    holder->eviction_asked.store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::size_t ServerCore::dormant_connections() const noexcept {
  std::size_t n = 0;
  for (const auto& w : workers_) n += w->dormant.load(std::memory_order_relaxed);
  return n;
}

void ServerCore::for_each_worker(const std::function<void(const WorkerMetrics&, unsigned, std::uint64_t)>& fn) const {
  for (const auto& w : workers_) fn(w->metrics, w->index(), w->idle_ns());
}

std::uint64_t ServerCore::total_commands() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->commands.load(std::memory_order_relaxed);
  return sum;
}

const Route* ServerCore::route(std::string_view lower_name) const {
  auto it = routes_.find(lower_name);
  return it == routes_.end() ? nullptr : &it->second;
}

void ServerCore::start() {
  using Protocols = std::vector<std::shared_ptr<const ProtocolFactory>>;
  // Until its first byte chooses, a connection is idle like any other (a pooled client may open
  // it long before its first command); a protocol's own deadlines count from the choice.
  const auto first_byte_wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      options_.idle_timeout.count() > 0 ? options_.idle_timeout : std::chrono::hours(24 * 365));
  // RESP, and with a message handler arrpc beside it: the first byte chooses ('*' or text is
  // RESP; a msgpack value's first byte from 0x80 is arrpc). RESP first: the port's refusals are
  // its own.
  Protocols plain_protocols{std::make_shared<RespProtocol>()};
  if (message_route_) plain_protocols.push_back(std::make_shared<ArrpcProtocol>());
  std::shared_ptr<const ProtocolFactory> plain = plain_protocols.front();
  if (plain_protocols.size() > 1) plain = std::make_shared<SniffingProtocol>(plain_protocols, first_byte_wait);
  if (!tls_) return start({ListenerSpec{options_.host, options_.port, plain}});
  // Inside TLS the same choice, on the first decrypted bytes.
  std::shared_ptr<const ProtocolFactory> secure = std::make_shared<TlsProtocol>(plain, tls_);
  if (options_.tls.accept_plaintext) {
    // One port, the first byte chooses: 0x16 opens a TLS record; the handshake deadline counts
    // from the choice.
    Protocols all{secure};
    all.insert(all.end(), plain_protocols.begin(), plain_protocols.end());
    secure = std::make_shared<SniffingProtocol>(std::move(all), first_byte_wait);
  }
  if (!options_.tls.port) {
    tls_listener_ = 0;
    return start({ListenerSpec{options_.host, options_.port, secure}});
  }
  tls_listener_ = 1;  // Redis's model: `port` plaintext, tls.port TLS
  start({ListenerSpec{options_.host, options_.port, plain}, ListenerSpec{options_.host, *options_.tls.port, secure}});
}

void ServerCore::reload_tls() {
  if (!tls_) throw std::logic_error("greenrpc: reload_tls() on a server without TLS");
  std::string failure;
  try {
    tls_->reload();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    GREENRPC_LOG(error, "TLS reload failed, keeping the current certificate: " + failure);
    throw TlsError(TlsError::Reason::configuration, failure);
  }
  GREENRPC_LOG(info, "TLS reloaded: new connections use " + tls_->current()->description());
}

void ServerCore::start(std::vector<ListenerSpec> listeners) {
  std::lock_guard lock(lifecycle_mutex_);
  for (const auto& hook : app_->on_startup) hook();
  started_at_ = Clock::now();
  bool reuse_port = options_.workers > 1;
  try {
    // Every worker exists before any listens: serving threads read workers_ (INFO), so it must
    // not change once a connection can arrive.
    for (unsigned i = 0; i < options_.workers; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
    {
      std::lock_guard lock(peers_mutex_);
      for (auto& w : workers_) peers_.push_back(w.get());
    }
    // Sized before any connection can arrive (INFO reads it from the workers' threads).
    ports_.assign(listeners.size(), 0);
    for (std::size_t l = 0; l < listeners.size(); ++l) {
      ListenerSpec& spec = listeners[l];
      for (unsigned i = 0; i < options_.workers; ++i) {
        std::uint16_t bound = workers_[i]->listen(spec, reuse_port);
        if (i == 0) spec.port = ports_[l] = bound;  // the other workers share the port the first one got
      }
    }
  } catch (...) {
    for (auto& w : workers_) {
      w->drain(OneShotEvent::create());
      w->join();
    }
    {
      std::lock_guard lock(peers_mutex_);
      peers_.clear();
    }
    workers_.clear();
    ports_.clear();
    throw;
  }
  running_ = true;
  if (options_.metrics.enabled) {
    // Registered once the workers exist (the collector reads them); reset before they go.
    metrics_handle_ = metrics::Registry::global().add([this](metrics::TextWriter& w) { write_metrics(w); });
    readiness_handle_ = metrics::Registry::global().add([](metrics::TextWriter&) {}, [this] { return ready(); });
    try {
      metrics_endpoint_ = metrics::HttpEndpoint::shared(options_.metrics);
    } catch (...) {
      metrics_handle_.reset();
      readiness_handle_.reset();
      running_ = false;
      for (auto& w : workers_) {
        w->drain(OneShotEvent::create());
        w->join();
      }
      {
        std::lock_guard peers(peers_mutex_);
        peers_.clear();
      }
      workers_.clear();
      throw;
    }
    metrics_port_ = metrics_endpoint_->port();
    GREENRPC_LOG(info, "metrics on http://" + options_.metrics.host + ":" + std::to_string(metrics_port_.load()) +
                           "/metrics");
  }
  for (const ListenerSpec& spec : listeners)
    GREENRPC_LOG(info, "listening on " + spec.host + ":" + std::to_string(spec.port) + " (" +
                           std::string(spec.protocol->name()) + ") with " + std::to_string(options_.workers) +
                           " worker(s)");
}

void ServerCore::stop(std::chrono::milliseconds grace) {
  if (t_serving_core == this)
    throw std::logic_error("greenrpc: Server::stop() called from one of the server's own handlers would wait for "
                           "itself; call request_stop() instead");
  std::lock_guard lock(lifecycle_mutex_);
  if (stopped_ || workers_.empty()) return;
  stopped_ = true;
  stop_requested_ = true;
  const Deadline grace_end = Deadline::after(grace);
  // 1. Stop accepting. Idle connections close now; requests received but not started are
  //    answered SHUTTING_DOWN; running ones get the grace period.
  std::vector<std::shared_ptr<OneShotEvent>> drained;
  for (auto& w : workers_) {
    drained.push_back(OneShotEvent::create());
    w->drain(drained.back());
  }
  auto all_drained = [&](Deadline until, bool skippable) {
    for (auto& d : drained) {
      for (;;) {
        if (skippable) {
          std::unique_lock skip(skip_mutex_);
          if (skip_grace_) return false;
        }
        // Slices, so a second signal (skip_grace) ends the grace period within 20 ms.
        const Deadline slice = skippable ? earliest(until, Deadline::after(std::chrono::milliseconds(20))) : until;
        if (d->wait(slice, Waiter::Interrupt::ignore)) break;
        if (until.expired()) return false;
      }
    }
    return true;
  };
  bool clean = all_drained(grace_end, /*skippable=*/true);
  // 2. Past the grace period: cancel what still runs (handlers' waits end with CancelledError,
  //    their callers get an error reply) and cut the connections.
  const Deadline hard_end = Deadline::after(options_.stop_timeout);
  if (!clean) {
    GREENRPC_LOG(warn, "grace period over: cancelling the requests still running");
    for (auto& w : workers_) w->cut_connections();
    clean = all_drained(hard_end, /*skippable=*/false);
  }
  // 3. The threads end once their fibers have returned. A worker whose handler is stuck in code
  //    greenrpc cannot interrupt (a busy loop, a blocking call outside run_blocking, a lock of
  //    another kind) is left running, detached, and leaked with this core: stop() returns.
  std::vector<std::unique_ptr<Worker>> stuck;
  {
    std::lock_guard lock(peers_mutex_);
    peers_.clear();  // before any worker can be destroyed below
  }
  // /readyz said "draining" all along; the collector reads the workers: it goes first (waiting
  // for a scrape inside it), then the endpoint if no one else shares it.
  metrics_handle_.reset();
  metrics_endpoint_.reset();
  for (auto& w : workers_) {
    if (!w->join_within(hard_end)) {
      w->log_stuck();
      stuck.push_back(std::move(w));
    }
  }
  workers_.clear();
  if (!stuck.empty()) {
    GREENRPC_LOG(error, std::to_string(stuck.size()) + " worker thread(s) still busy " +
                            std::to_string(options_.stop_timeout.count()) +
                            " ms after their requests were cancelled: left running, detached");
    // Their fibers use this core and its workers: keep both alive for as long as the process.
    auto* leaked = new std::vector<std::unique_ptr<Worker>>(std::move(stuck));
    for (auto& w : *leaked) w->abandon();
    if (auto self = weak_from_this().lock()) new std::shared_ptr<ServerCore>(std::move(self));
  }
  running_ = false;
  std::string failure;
  for (const auto& hook : app_->on_shutdown) {
    try {
      hook();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) GREENRPC_LOG(error, "shutdown hook failed: " + failure);
    failure.clear();
  }
}

}  // namespace greenrpc
