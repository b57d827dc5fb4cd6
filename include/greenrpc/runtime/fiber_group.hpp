#pragma once
// Fibers started together on one EventLoopThread, and a join() that waits until every one of them
// has returned — for an object whose fibers use it (a Client's connections) on a loop it does
// not own, so it can end without stopping the loop.
#include <functional>
#include <memory>

#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

class FiberGroup {
 public:
  explicit FiberGroup(EventLoopThread& loop);
  // join(), uninterruptible. It may park the calling fiber: never let a FiberGroup (or an object
  // owning one, such as a Client on a shared loop) be destroyed by stack unwinding in a fiber —
  // Boost 1.74 corrupts the exception state when a fiber switches during unwinding.
  ~FiberGroup();
  FiberGroup(const FiberGroup&) = delete;
  FiberGroup& operator=(const FiberGroup&) = delete;

  // Thread-safe: starts `fn` in a new fiber on the loop.
  void spawn(std::function<void()> fn);
  // Waits until every fiber spawned so far has returned: blocks a plain thread, parks a fiber.
  // Any number of threads and fibers may wait at once.
  // Not from one of the group's own fibers, nor from a task posted to the loop (not a fiber).
  // Returns at once if the loop has already ended (its fibers have, then, too). A waiting fiber
  // ends its wait on cancellation or its inherited deadline (CancelledError, DeadlineExceededError).
  void join() { join(Waiter::Interrupt::honour); }
  // Interrupt::ignore: for destructors, which must not throw.
  void join(Waiter::Interrupt interrupt);

 private:

  struct State;
  EventLoopThread& loop_;
  std::shared_ptr<State> state_;
};

}  // namespace greenrpc
