#include "worker.hpp"

#include <future>

#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "server_core.hpp"

namespace greenrpc {

Worker::Worker(ServerCore& core, unsigned index)
    : metrics(core.command_labels()),
      core_(core),
      index_(index),
      loop_("greenrpc-w" + std::to_string(index)) {
  loop_.post([core = &core_] { ServerCore::set_serving_on_this_thread(core); });
}

Worker::~Worker() { join(); }

std::uint64_t Worker::idle_ns() const noexcept { return loop_.reactor().idle_ns(); }

std::uint16_t Worker::listen(const ListenerSpec& spec, bool reuse_port) {
  auto bound = std::make_shared<std::promise<std::uint16_t>>();
  auto result = bound->get_future();
  loop_.spawn_fiber([this, bound, spec, reuse_port] {
    auto listener = std::make_unique<Listener>();
    listener->protocol = spec.protocol;
    try {
      listener->socket = std::make_unique<TcpListener>(ListenOptions{spec.host, spec.port, reuse_port, 1024});
    } catch (...) {
      bound->set_exception(std::current_exception());  // does not park
      return;
    }
    bound->set_value(listener->socket->port());
    Listener& mine = *listeners_.emplace_back(std::move(listener));
    accept_loop(mine);
  });
  return result.get();
}

void Worker::accept_loop(Listener& listener) {
  const ServerOptions& opts = core_.options();
  while (auto stream = listener.socket->accept()) {
    if (core_.open_connections.load(std::memory_order_relaxed) >= opts.max_connections) {
      metrics.refused[static_cast<std::size_t>(RefusedReason::max_connections)].add();
      GREENRPC_LOG_LIMITED(warn, "connection_refused", "connection refused: max_connections reached",
                           {{"peer", stream->peer().to_string()},
                            {"protocol", listener.protocol->name()},
                            {"max_connections", opts.max_connections}});
      // A fresh socket's send buffer is empty, so this never parks for long.
      std::string_view refusal = listener.protocol->refusal();
      if (!refusal.empty()) {
        try {
          stream->write_all(refusal, Deadline::after(std::chrono::seconds(1)));
        } catch (const std::exception&) {
        }
      }
      continue;
    }
    core_.open_connections.fetch_add(1, std::memory_order_relaxed);
    core_.total_connections.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t id = core_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
    const Clock::time_point opened = Clock::now();
    GREENRPC_LOG_FIELDS(debug, "connection opened",
                        {{"conn", id}, {"peer", stream->peer().to_string()}, {"protocol", listener.protocol->name()}});
    std::unique_ptr<ProtocolHandler> handler;
    std::string failure;
    try {
      handler = listener.protocol->make(*this, std::move(stream), id);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!handler) {
      core_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      GREENRPC_LOG_LIMITED(error, "connection_not_started", "connection not started",
                           {{"conn", id}, {"protocol", listener.protocol->name()}, {"reason", failure}});
      continue;
    }
    ProtocolHandler* key = handler.get();
    auto owned = std::make_unique<Connection>(Connection{this, std::move(handler), id, listener.protocol.get(), opened});
    Connection* c = owned.get();
    connections_.emplace(key, std::move(owned));
    // Until its first byte, a connection holds no fiber: a flood of silent connections costs
    // sockets and small states only.
    bool armed = false;
    try {
      armed = !draining_ && c->handler->await_input(wakeup_for(c));
    } catch (const std::exception& e) {  // e.g. epoll_ctl refused: run it in a fiber instead
      GREENRPC_LOG_FIELDS(debug, "connection not made dormant", {{"conn", id}, {"reason", e.what()}});
    }
    if (armed) {
      set_dormant(c, true);
      continue;
    }
    if (draining_) c->handler->drain();  // accepted just before the drain closed the listener
    if (!start_fiber(c)) sleep_for(std::chrono::milliseconds(100));  // let the system breathe
  }
  listener.socket.reset();
}

bool Worker::start_fiber(Connection* c) {
  std::string failure;
  try {
    loop_.spawn_fiber([this, c] { serve(c); }, core_.options().fiber_stack_size);
    return true;
  } catch (const std::exception& e) {  // no stack (mmap failed, e.g. at vm.max_map_count)
    failure = e.what();
  }
  // The fiber never started: close the connection (freeing its slot and its memory).
  GREENRPC_LOG_LIMITED(error, "no_connection_fiber", "cannot start a connection fiber: connection closed",
                       {{"worker", index_}, {"conn", c->id}, {"reason", failure}});
  close_connection(c, "no fiber to run it");
  return false;
}

void Worker::serve(Connection* c) {
  if (c->handler->run(wakeup_for(c)) == RunResult::dormant) {
    // Its wakeup is armed; its call comes in a later scheduler round, after this fiber ended.
    set_dormant(c, true);
    return;
  }
  close_connection(c);
}

void Worker::on_wakeup(void* connection, Waiter::Result why) {
  // Input, the idle deadline, a drain's quiet window or a cancel: run() tells which, unless
  // the connection only has to be closed.
  auto* c = static_cast<Connection*>(connection);
  c->worker->set_dormant(c, false);
  if (!c->handler->needs_fiber(why)) return c->worker->close_soon(c);  // nothing to answer
  c->worker->start_fiber(c);
}

void Worker::wake(Connection* c) {
  if (!c->dormant) return;
  c->handler->stop_awaiting_input();
  set_dormant(c, false);
  start_fiber(c);
}

void Worker::set_dormant(Connection* c, bool dormant_now) {
  c->dormant = dormant_now;
  // One writer (this thread): a plain store, no read-modify-write shared between cores.
  dormant.store(dormant.load(std::memory_order_relaxed) + (dormant_now ? 1 : -1), std::memory_order_relaxed);
}

void Worker::close_soon(Connection* c) {
  c->closing = true;
  to_close_.push_back(c);
  if (reaper_running_) return;
  reaper_running_ = true;
  std::string failure;
  try {
    loop_.spawn_fiber([this] {
      while (!to_close_.empty()) {
        Connection* next = to_close_.back();
        to_close_.pop_back();
        close_connection(next);  // may park (user state): later ones queue meanwhile
      }
      reaper_running_ = false;
    });
    return;
  } catch (const std::exception& e) {  // no stack: close them here, as the last resort
    failure = e.what();
  }
  reaper_running_ = false;
  GREENRPC_LOG(error, "worker " + std::to_string(index_) + ": no fiber to close connections (" + failure +
                          "): closing them on the scheduler");
  while (!to_close_.empty()) {
    Connection* next = to_close_.back();
    to_close_.pop_back();
    close_connection(next);
  }
}

void Worker::close_connection(Connection* c, std::string_view why) {
  ProtocolHandler* key = c->handler.get();
  if (log_enabled(LogLevel::debug)) {
    std::string reason = !why.empty() ? std::string(why) : c->cut ? std::string("server stopping") : key->close_reason();
    std::string_view protocol = key->protocol_name();
    if (protocol.empty()) protocol = c->protocol->name();
    const Endpoint* peer = key->peer();
    GREENRPC_LOG_FIELDS(debug, "connection closed",
                        {{"conn", c->id},
                         {"peer", peer ? peer->to_string() : std::string()},
                         {"protocol", protocol},
                         {"reason", std::move(reason)},
                         {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - c->opened).count()}});
  }
  if (c->dormant) {
    c->handler->stop_awaiting_input();
    set_dormant(c, false);
  }
  if (evicted_.erase(key) != 0) {
    releasing.store(evicted_bytes(), std::memory_order_relaxed);
  }
  if (key == largest_who_) {  // the next budget check finds the real largest
    largest_who_ = nullptr;
    largest_holder.store(0, std::memory_order_relaxed);
  }
  connections_.erase(key);  // destroys the handler, which closes its stream if run() did not
  core_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (draining_ && connections_.empty() && drained_) drained_->set();
}

void Worker::buffered_changed(ProtocolHandler* who, std::ptrdiff_t delta) {
  const std::int64_t total = core_.buffered_total.fetch_add(delta, std::memory_order_relaxed) + delta;
  if (who && evicted_.contains(who)) {  // what it releases changed with it
    releasing.store(evicted_bytes(), std::memory_order_relaxed);
    return;
  }
  if (who == largest_who_ && delta < 0 && who) largest_holder.store(who->buffered_bytes(), std::memory_order_relaxed);
  if (delta <= 0) return;
  if (who && who->buffered_bytes() > largest_holder.load(std::memory_order_relaxed)) {
    largest_holder.store(who->buffered_bytes(), std::memory_order_relaxed);
    largest_who_ = who;
  }
  if (total > static_cast<std::int64_t>(core_.options().client_memory_budget)) enforce_budget();
}

std::size_t Worker::evicted_bytes() const {
  std::size_t n = 0;
  for (ProtocolHandler* e : evicted_) n += e->buffered_bytes();
  return n;
}

void Worker::enforce_budget() {
  eviction_asked.store(false, std::memory_order_relaxed);
  const auto budget = static_cast<std::int64_t>(core_.options().client_memory_budget);
  // Bytes of connections already evicted (still closing) count as released.
  std::size_t mine_releasing = evicted_bytes();
  for (;;) {
    releasing.store(mine_releasing, std::memory_order_relaxed);
    const std::int64_t over = core_.buffered_total.load(std::memory_order_relaxed) -
                              static_cast<std::int64_t>(mine_releasing + core_.releasing_bytes(this)) - budget;
    ProtocolHandler* largest = nullptr;
    for (auto& [c, conn] : connections_)
      if (!evicted_.contains(c) && (!largest || c->buffered_bytes() > largest->buffered_bytes())) largest = c;
    const std::size_t mine = largest ? largest->buffered_bytes() : 0;
    largest_holder.store(mine, std::memory_order_relaxed);
    largest_who_ = largest;
    if (over <= 0) return;
    // Another worker holds a larger one: that one goes first, evicted by its own thread.
    if (core_.ask_to_evict(this, mine)) return;
    if (mine == 0) return;
    mine_releasing += mine;
    evicted_.insert(largest);
    GREENRPC_LOG_LIMITED(warn, "client_memory_budget", "client memory budget exceeded: closing the connection holding the most",
                         {{"worker", index_},
                          {"buffered_bytes", core_.buffered_total.load(std::memory_order_relaxed)},
                          {"budget_bytes", budget},
                          {"connection_bytes", mine}});
    metrics.refused[static_cast<std::size_t>(RefusedReason::client_memory_budget)].add();
    largest->evict("client memory budget exceeded: this connection held the most buffered bytes");
  }
}

void Worker::drain(std::shared_ptr<OneShotEvent> done) {
  loop_.post([this, done = std::move(done)] {
    draining_ = true;
    drained_ = done;
    for (auto& l : listeners_)
      if (l->socket) l->socket->close();  // wakes the acceptor, which then returns
    std::vector<Connection*> all;
    for (auto& [key, c] : connections_) all.push_back(c.get());
    for (Connection* c : all) {
      if (c->closing) continue;
      ProtocolHandler* key = c->handler.get();
      c->handler->drain();
      // A dormant one has nothing to answer: it waits, without a fiber, for a request that may
      // have crossed the drain (a fiber answers it), else closes. 50,000 dormant connections
      // must not all take a fiber at once.
      if (connections_.contains(key) && c->dormant && !c->closing && !c->handler->drain_dormant(wakeup_for(c)))
        wake(c);
    }
    if (connections_.empty()) done->set();
  });
}

void Worker::cut_connections() {
  loop_.post([this] {
    std::vector<Connection*> all;
    for (auto& [key, c] : connections_) all.push_back(c.get());
    for (Connection* c : all) {
      if (c->closing) continue;
      if (c->dormant) {
        c->handler->stop_awaiting_input();
        set_dormant(c, false);
        c->cut = true;
        close_soon(c);  // nothing buffered, nothing unanswered: no fiber of its own needed
        continue;
      }
      c->handler->cut();
    }
  });
}

void Worker::join() {
  cut_connections();  // a drain has closed them unless stop() was bypassed; a dormant one has no fiber to wait for
  loop_.stop();
}

bool Worker::join_within(Deadline deadline) {
  cut_connections();
  return loop_.stop_within(deadline);
}

void Worker::abandon() { loop_.abandon(); }

void Worker::log_stuck() {
  auto report = std::make_shared<std::string>();
  auto answered = OneShotEvent::create();
  const bool posted = loop_.post([this, report, answered] {
    const auto now = Clock::now();
    for (auto& [c, conn] : connections_) *report += c->describe_running(now);
    answered->set();
  });
  if (posted && answered->wait(Deadline::after(std::chrono::milliseconds(100)), Waiter::Interrupt::ignore)) {
    GREENRPC_LOG(error, "worker " + std::to_string(index_) + " still busy:" + (report->empty() ? std::string(" no request") : *report));
  } else if (posted) {
    GREENRPC_LOG(error, "worker " + std::to_string(index_) +
                            " does not answer: a handler blocks its thread (a busy loop, or a blocking call "
                            "outside run_blocking)");
  }
}

}  // namespace greenrpc
