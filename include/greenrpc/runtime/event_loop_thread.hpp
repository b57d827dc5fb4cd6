#pragma once
// A thread running an EpollScheduler + Reactor. Work reaches it through post() / spawn_fiber();
// stop() wakes its main fiber, which returns once `on_stop` (if any) is done and every fiber
// that was started on it has finished.
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/stack_pool.hpp"

namespace greenrpc {

class Reactor;

class EventLoopThread {
 public:
  // `name` shows in top/gdb (15 chars max).
  explicit EventLoopThread(std::string name = "greenrpc");
  ~EventLoopThread();  // stops and joins
  EventLoopThread(const EventLoopThread&) = delete;
  EventLoopThread& operator=(const EventLoopThread&) = delete;

  // Thread-safe. Runs `task` on the loop thread's scheduler (short work); false (task dropped)
  // once the loop has ended ...
  bool post(std::function<void()> task);
  // ... or in a new fiber there (may block, sleep, do I/O). From the loop thread itself the fiber
  // starts at once, and std::bad_alloc (no stack) reaches the caller; from elsewhere a failure
  // is logged. The new fiber inherits no deadline or cancellation token (it serves nobody's
  // request yet). The loop does not end before every such fiber, and every fiber started there
  // with greenrpc::spawn, has returned.
  void spawn_fiber(std::function<void()> fn, std::size_t stack_size = GuardedStackPool::kDefaultStackSize);
  // Thread-safe and idempotent: asks the loop to finish and joins it (unless called on the loop
  // thread itself, then only asks). Fibers still running must finish on their own first: cancel
  // their I/O from a posted task before calling stop().
  void stop();
  // stop(), but waits for the thread only until `deadline`: true when it ended and was joined;
  // false when fibers are still running (stuck in code greenrpc cannot interrupt). Then
  // abandon() lets the thread run on, detached, and this object can be destroyed; whatever its
  // fibers use must stay alive (a server leaks its worker on purpose then).
  bool stop_within(Deadline deadline);
  void abandon();
  Reactor& reactor() const { return *reactor_; }
  bool on_this_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void ask_to_stop();
  struct State;
  std::shared_ptr<State> state_;
  Reactor* reactor_ = nullptr;
  std::thread thread_;
};

}  // namespace greenrpc
