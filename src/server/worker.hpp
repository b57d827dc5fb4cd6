#pragma once
// One worker thread of a server: its scheduler, its listeners (one per ListenerSpec, each with its
// protocol), its connections.
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "greenrpc/net/tcp_listener.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"
#include "listener_spec.hpp"
#include "protocol_handler.hpp"
#include "server_metrics.hpp"

namespace greenrpc {

class ServerCore;

class Worker {
 public:
  Worker(ServerCore& core, unsigned index);
  ~Worker();

  // Binds (on the worker's thread) and starts accepting connections of `spec.protocol`; returns
  // the bound port. May be called once per listener.
  std::uint16_t listen(const ListenerSpec& spec, bool reuse_port);
  // Stops accepting, closes idle connections, lets busy ones finish their pipeline; `done` is
  // set once no connection is left.
  void drain(std::shared_ptr<OneShotEvent> done);
  // Cuts every remaining connection (their parked reads and writes fail at once).
  void cut_connections();
  // Ends the thread (waits for its fibers to return).
  void join();
  // join(), bounded: false when fibers still run at `deadline` (see abandon()).
  bool join_within(Deadline deadline);
  // Logs each request still running (command, connection, age); when the thread does not answer
  // within 100 ms (a handler blocks it), says so.
  void log_stuck();
  // Lets a thread that did not end run on, detached. This worker must then never be destroyed.
  void abandon();

  // Commands run on this worker. Written only by its own thread, so the per-request increment
  // never contends with the other workers (a shared counter would bounce between cores).
  alignas(64) std::atomic<std::uint64_t> commands{0};
  // Its connections holding no fiber (dormant). Written only by its own thread, like `commands`.
  std::atomic<std::size_t> dormant{0};
  // Its requests, connections and failures, for the server's metrics (its thread writes them).
  WorkerMetrics metrics;
  // Nanoseconds its thread slept waiting for work (busy time = wall time - this).
  std::uint64_t idle_ns() const noexcept;

  // Thread-safe: runs `task` on this worker's thread (false once it has stopped).
  bool post(std::function<void()> task) { return loop_.post(std::move(task)); }
  unsigned index() const noexcept { return index_; }

  ServerCore& core() noexcept { return core_; }

  bool draining() const noexcept { return draining_; }
  // Loop thread only: `who`'s buffers grew or shrank by `delta` bytes. Over the server-wide
  // client memory budget, the connection holding the most is evicted first: here when this
  // worker holds it, else by the worker that does (ServerCore::ask_to_evict), until the total
  // minus what evicted connections are releasing fits again.
  void buffered_changed(ProtocolHandler* who, std::ptrdiff_t delta);
  // Loop thread only: evicts this worker's largest holders while the server is over budget and
  // no other worker holds a larger one.
  void enforce_budget();

  // Published for the other workers' budget decisions (written by this worker's thread only):
  // the bytes of its largest connection not already evicted (exact after each enforce_budget,
  // raised as connections grow), and the bytes its evicted connections are still releasing.
  std::atomic<std::size_t> largest_holder{0};
  std::atomic<std::size_t> releasing{0};
  std::atomic<bool> eviction_asked{false};  // an enforce_budget() is posted to this worker
  std::atomic<std::int64_t> eviction_asked_at{0};  // when (steady clock, ns)

 private:
  struct Listener {
    std::unique_ptr<TcpListener> socket;  // reset once its accept loop has returned
    std::shared_ptr<const ProtocolFactory> protocol;
  };

  // An open connection: owned here from accept to close, whether it runs in a fiber or is dormant.
  struct Connection {
    Worker* worker;
    std::unique_ptr<ProtocolHandler> handler;
    std::uint64_t id = 0;                       // for its log lines
    const ProtocolFactory* protocol = nullptr;  // its listener's
    Clock::time_point opened{};
    bool dormant = false;  // no fiber: its wakeup is armed on its stream
    bool closing = false;  // queued for the reaper: drain and cut pass it by
    bool cut = false;      // closed by cut_connections() without running
  };

  void accept_loop(Listener& listener);
  // Starts a fiber for `c` (dormant or new). On failure (no stack) closes it: false.
  bool start_fiber(Connection* c);
  // The body of a connection's fiber: run() until the connection closes or goes dormant.
  void serve(Connection* c);
  // The Wakeup's callback of a dormant connection (scheduler loop): gives it a fiber.
  static void on_wakeup(void* connection, Waiter::Result why);
  // A dormant connection that a drain or a cut must reach: its wakeup withdrawn, a fiber started.
  void wake(Connection* c);
  // `why` for the "connection closed" debug line; empty: the handler's close_reason().
  void close_connection(Connection* c, std::string_view why = {});
  // Closes a connection that needs no fiber of its own, from one reaper fiber: its destructor
  // (user connection state included) may park, so it never runs on the scheduler's stack.
  void close_soon(Connection* c);
  Wakeup wakeup_for(Connection* c) { return Wakeup{&Worker::on_wakeup, c}; }
  void set_dormant(Connection* c, bool dormant);
  // Bytes the evicted connections (still closing) hold: released soon, counted as released.
  std::size_t evicted_bytes() const;

  ServerCore& core_;
  unsigned index_;
  EventLoopThread loop_;
  // Loop-thread state:
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<ProtocolHandler*, std::unique_ptr<Connection>> connections_;
  bool draining_ = false;
  std::shared_ptr<OneShotEvent> drained_;
  ProtocolHandler* largest_who_ = nullptr;  // the connection largest_holder was last raised for
  std::unordered_set<ProtocolHandler*> evicted_;  // evicted, still closing: their bytes are on the way out
  std::vector<Connection*> to_close_;  // for the reaper
  bool reaper_running_ = false;
};

}  // namespace greenrpc
