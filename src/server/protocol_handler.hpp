#pragma once
// One connection speaking one protocol (RESP, a sniffed one...): the body of the connection's
// fiber plus the stop hooks the worker calls. The worker owns it from accept to close and keeps it
// in its set of connections so that drain and cut reach it.
//
// Dormancy: a connection idle with nothing buffered holds no fiber. run() then arms a fiber-free
// wait on its stream (ByteStream::notify_readable) with the worker's Wakeup and returns
// `dormant`; the fiber ends and its stack goes back to the pool. The Wakeup's callback comes when
// input arrives, the idle deadline passes or the stream is cancelled, and the worker calls run()
// again in a new fiber. A new connection starts dormant (await_input) until its first byte.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "greenrpc/net/endpoint.hpp"
#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

// A drained connection reads on until its peer has been quiet this long, so that requests that
// crossed the drain get SHUTTING_DOWN rather than silence.
inline constexpr std::chrono::milliseconds kDrainQuiet{25};

// What the worker gives a connection to call when it needs a fiber again.
struct Wakeup {
  Waiter::Callback ready = nullptr;
  void* arg = nullptr;
};

enum class RunResult {
  closed,   // the stream is closed: the handler can be destroyed
  dormant,  // idle, buffers released, `wakeup` armed on the stream: run() again when it fires
};

class ProtocolHandler {
 public:
  virtual ~ProtocolHandler() = default;

  // The fiber body: serves until the peer leaves, a stop, or an error (closes the stream), or
  // until the connection is idle with nothing buffered (see Dormancy above).
  virtual RunResult run(const Wakeup& wakeup) noexcept = 0;
  // Before the first run(): arms `wakeup` for the first input. False when input may be there
  // already, or when the protocol keeps its fiber (the default): run() at once.
  virtual bool await_input(const Wakeup& /*wakeup*/) { return false; }
  // Withdraws the wakeup armed by await_input() or a dormant run(), without calling it (the
  // worker runs the connection for a drain or a cut instead).
  virtual void stop_awaiting_input() noexcept {}
  // The wakeup of a dormant connection came with `why`: false when the connection only has to be
  // closed (its idle deadline, or a drain's quiet window, passed with nothing to read): the worker
  // then destroys it from its reaper fiber instead of running it.
  virtual bool needs_fiber(Waiter::Result /*why*/) const { return true; }
  // A drain reached this dormant connection (after drain()): re-arms its wakeup for a short quiet
  // window, so a request that crossed the drain still gets its answer and a quiet connection
  // closes without a fiber. False when it needs a fiber now instead.
  virtual bool drain_dormant(const Wakeup& /*wakeup*/) { return false; }
  // Graceful stop: close now when idle between requests, else after the current batch.
  virtual void drain() = 0;
  // Immediate stop: wake any parked read or write with CancelledError; queued requests are not
  // started.
  virtual void cut() = 0;
  // " conn=<id> peer=<addr> command=<name> running_ms=<age>" per request still running, for the
  // log of a stop that had to give up on it; empty when none runs.
  virtual std::string describe_running(Clock::time_point /*now*/) const { return {}; }
  // Bytes this connection holds in buffers (requests and replies), for the server's client
  // memory budget.
  virtual std::size_t buffered_bytes() const { return 0; }
  // The handler the worker knows this connection by (for the budget's bookkeeping): itself, or
  // the handler that runs it (a SniffingConnection running its chosen protocol's handler).
  ProtocolHandler* budget_key() noexcept { return owner_ ? owner_ : this; }
  void set_owner(ProtocolHandler* owner) noexcept { owner_ = owner; }
  // Closes the connection to free its buffers, telling the peer `reason` if it can. Owner
  // thread; the connection's fiber does the closing.
  virtual void evict(std::string_view /*reason*/) {}
  // Why it closed, for the worker's "connection closed" debug line ("peer closed", "idle
  // timeout", "server stopping", an error...). Asked as it is destroyed.
  virtual std::string close_reason() const { return {}; }
  // Its peer, for that line; null when unknown.
  virtual const Endpoint* peer() const noexcept { return nullptr; }
  // The protocol it speaks, for that line (a sniffing connection's: the one it chose); empty:
  // its listener's.
  virtual std::string_view protocol_name() const noexcept { return {}; }

 private:
  ProtocolHandler* owner_ = nullptr;
};

}  // namespace greenrpc
