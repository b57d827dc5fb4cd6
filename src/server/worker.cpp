#include "worker.hpp"

#include <future>

#include "connection.hpp"
#include "greenrpc/runtime/log.hpp"
#include "server_core.hpp"

namespace greenrpc {

Worker::Worker(ServerCore& core, unsigned index)
    : core_(core), index_(index), loop_("greenrpc-w" + std::to_string(index)) {
  loop_.post([core = &core_] { ServerCore::set_serving_on_this_thread(core); });
}

Worker::~Worker() { join(); }

std::uint16_t Worker::listen(std::uint16_t port, bool reuse_port) {
  auto bound = std::make_shared<std::promise<std::uint16_t>>();
  auto result = bound->get_future();
  loop_.spawn_fiber([this, bound, port, reuse_port] {
    try {
      listener_ = std::make_unique<TcpListener>(ListenOptions{core_.options().host, port, reuse_port, 1024});
    } catch (...) {
      bound->set_exception(std::current_exception());  // does not park
      return;
    }
    bound->set_value(listener_->port());
    accept_loop();
  });
  return result.get();
}

void Worker::accept_loop() {
  const ServerOptions& opts = core_.options();
  while (auto stream = listener_->accept()) {
    if (core_.open_connections.load(std::memory_order_relaxed) >= opts.max_connections) {
      // Redis' answer; a fresh socket's send buffer is empty, so this never parks for long.
      try {
        stream->write_all(std::string_view("-ERR max number of clients reached\r\n"), Deadline::after(std::chrono::seconds(1)));
      } catch (const std::exception&) {
      }
      continue;
    }
    core_.open_connections.fetch_add(1, std::memory_order_relaxed);
    core_.total_connections.fetch_add(1, std::memory_order_relaxed);
    ByteStream* raw = stream.release();
    loop_.spawn_fiber(
        [this, raw] {
          {
            Connection connection(*this, std::unique_ptr<ByteStream>(raw));
            connection.run();
          }
          core_.open_connections.fetch_sub(1, std::memory_order_relaxed);
        },
        opts.fiber_stack_size);
  }
  listener_.reset();
}

void Worker::detach(Connection* c) {
  connections_.erase(c);
  if (draining_ && connections_.empty() && drained_) drained_->set();
}

void Worker::drain(std::shared_ptr<OneShotEvent> done) {
  loop_.post([this, done = std::move(done)] {
    draining_ = true;
    drained_ = done;
    if (listener_) listener_->close();  // wakes the acceptor, which then returns
    std::vector<Connection*> all(connections_.begin(), connections_.end());
    for (Connection* c : all) c->drain();
    if (connections_.empty()) done->set();
  });
}

void Worker::cut_connections() {
  loop_.post([this] {
    for (Connection* c : connections_) c->cut();
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
    for (Connection* c : connections_) *report += c->describe_running(now);
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
