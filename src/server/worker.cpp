#include "worker.hpp"

#include <future>

#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/log.hpp"
#include "server_core.hpp"

namespace greenrpc {

Worker::Worker(ServerCore& core, unsigned index)
    : core_(core),
      index_(index),
      loop_("greenrpc-w" + std::to_string(index)),
      budget_share_(core.options().client_memory_budget / std::max(1u, core.options().workers)) {
  loop_.post([core = &core_] { ServerCore::set_serving_on_this_thread(core); });
}

Worker::~Worker() { join(); }

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
    ByteStream* raw = stream.release();
    const ProtocolFactory* protocol = listener.protocol.get();  // lives as long as the worker
    std::string failure;
    try {
      loop_.spawn_fiber(
          [this, raw, protocol] {
            serve(*protocol, std::unique_ptr<ByteStream>(raw));
            core_.open_connections.fetch_sub(1, std::memory_order_relaxed);
          },
          opts.fiber_stack_size);
    } catch (const std::exception& e) {  // no stack (mmap failed, e.g. at vm.max_map_count)
      failure = e.what();
    }
    if (failure.empty()) continue;
    // The fiber never started: the connection is still ours. Close it (freeing its reactor slot),
    // undo the count, and give the system a moment before accepting the next one.
    delete raw;
    core_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    const Clock::time_point now = Clock::now();
    if (now - last_spawn_failure_log_ > std::chrono::seconds(1)) {
      last_spawn_failure_log_ = now;
      GREENRPC_LOG(error, "worker " + std::to_string(index_) + ": cannot start a connection fiber (" + failure +
                              "): connection closed; accepting again in 100 ms");
    }
    sleep_for(std::chrono::milliseconds(100));
  }
  listener.socket.reset();
}

void Worker::serve(const ProtocolFactory& protocol, std::unique_ptr<ByteStream> stream) {
  std::unique_ptr<ProtocolHandler> handler;
  std::string failure;
  try {
    handler = protocol.make(*this, std::move(stream));
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!handler) {
    GREENRPC_LOG(error, std::string(protocol.name()) + " connection not started: " + failure);
    return;
  }
  ProtocolHandler* key = handler.get();
  attach(key);
  // Accepted just before a drain that ran before this fiber did: the drain could not see it.
  if (draining_) handler->drain();
  handler->run();
  handler.reset();
  detach(key);
}

void Worker::buffered_changed(std::ptrdiff_t delta) {
  buffered_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(buffered_) + delta);
  if (delta <= 0 || buffered_ <= budget_share_) return;
  // Over budget: evict the largest holders first; bytes of connections already evicted (still
  // closing) count as released.
  std::size_t releasing = 0;
  for (ProtocolHandler* c : evicted_) releasing += c->buffered_bytes();
  while (buffered_ - std::min(buffered_, releasing) > budget_share_) {
    ProtocolHandler* largest = nullptr;
    for (ProtocolHandler* c : connections_)
      if (!evicted_.contains(c) && (!largest || c->buffered_bytes() > largest->buffered_bytes())) largest = c;
    if (!largest || largest->buffered_bytes() == 0) return;
    releasing += largest->buffered_bytes();
    evicted_.insert(largest);
    GREENRPC_LOG(warn, "worker " + std::to_string(index_) + ": client memory budget exceeded (" +
                           std::to_string(buffered_) + " bytes buffered, share " + std::to_string(budget_share_) +
                           "): closing the connection holding the most (" +
                           std::to_string(largest->buffered_bytes()) + " bytes)");
    largest->evict("client memory budget exceeded: this connection held the most buffered bytes");
  }
}

void Worker::detach(ProtocolHandler* c) {
  evicted_.erase(c);
  connections_.erase(c);
  if (draining_ && connections_.empty() && drained_) drained_->set();
}

void Worker::drain(std::shared_ptr<OneShotEvent> done) {
  loop_.post([this, done = std::move(done)] {
    draining_ = true;
    drained_ = done;
    for (auto& l : listeners_)
      if (l->socket) l->socket->close();  // wakes the acceptor, which then returns
    std::vector<ProtocolHandler*> all(connections_.begin(), connections_.end());
    for (ProtocolHandler* c : all) c->drain();
    if (connections_.empty()) done->set();
  });
}

void Worker::cut_connections() {
  loop_.post([this] {
    for (ProtocolHandler* c : connections_) c->cut();
  });
}

void Worker::join() { loop_.stop(); }

bool Worker::join_within(Deadline deadline) { return loop_.stop_within(deadline); }

void Worker::abandon() { loop_.abandon(); }

void Worker::log_stuck() {
  auto report = std::make_shared<std::string>();
  auto answered = OneShotEvent::create();
  const bool posted = loop_.post([this, report, answered] {
    const auto now = Clock::now();
    for (ProtocolHandler* c : connections_) *report += c->describe_running(now);
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
