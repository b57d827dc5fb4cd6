#include "server_core.hpp"

#include "builtin_commands.hpp"
#include "greenrpc/runtime/log.hpp"
#include "resp_protocol.hpp"
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
  // One table: built-ins, then user commands (which may shadow the courtesy built-ins; the
  // registry already refused the reserved names).
  for (const BuiltinCommand& b : builtin_commands()) routes_[std::string(b.name)] = Route{nullptr, b.fn};
  for (const CommandInfo* info : app_->registry.all()) {
    std::string key = CommandRegistry::lower(info->name);
    routes_[key] = Route{app_->registry.find_lower(key), nullptr};
  }
}

ServerCore::~ServerCore() { stop(options_.grace_period); }

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
  start({ListenerSpec{options_.host, options_.port, std::make_shared<RespProtocol>()}});
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
    workers_.clear();
    ports_.clear();
    throw;
  }
  running_ = true;
  for (const ListenerSpec& spec : listeners)
    GREENRPC_LOG(info, "listening on " + spec.host + ":" + std::to_string(spec.port) + " (" +
                           std::string(spec.protocol->name()) + ") with " + std::to_string(options_.workers) +
                           " worker(s)");
}

void ServerCore::stop(std::chrono::milliseconds grace) {
  std::lock_guard lock(lifecycle_mutex_);
  if (stopped_ || workers_.empty()) return;
  stopped_ = true;
  // 1. Stop accepting; idle connections close now, busy ones after their current batch.
  std::vector<std::shared_ptr<OneShotEvent>> drained;
  for (auto& w : workers_) {
    drained.push_back(OneShotEvent::create());
    w->drain(drained.back());
  }
  Deadline grace_end = Deadline::after(grace);
  bool clean = true;
  for (auto& d : drained) clean = d->wait(grace_end) && clean;
  // 2. Past the grace period: cut whatever is left (parked reads/writes fail at once).
  if (!clean) {
    GREENRPC_LOG(warn, "grace period over: cutting remaining connections");
    for (auto& w : workers_) w->cut_connections();
    for (auto& d : drained) d->wait();
  }
  // 3. The threads end once their fibers have returned.
  for (auto& w : workers_) w->join();
  workers_.clear();
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
