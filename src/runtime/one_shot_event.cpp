#include "greenrpc/runtime/one_shot_event.hpp"

#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

void OneShotEvent::set() {
  std::lock_guard lock(mutex_);
  if (set_) return;
  set_ = true;
  cv_.notify_all();
  if (!fiber_reactor_) return;
  if (fiber_reactor_ == Reactor::current()) {
    fiber_waiter_->wake();
    return;
  }
  // Another thread's fiber: deliver the wake through its reactor, posting under the lock — a
  // registered waiter is a parked fiber, so its thread and reactor are alive. The waiter may
  // have timed out by the time the task runs, hence the re-check on the owning thread.
  fiber_reactor_->post([self = shared_from_this()] {
    std::lock_guard inner(self->mutex_);
    if (self->fiber_waiter_) self->fiber_waiter_->wake();
  });
}

bool OneShotEvent::is_set() const {
  std::lock_guard lock(mutex_);
  return set_;
}

bool OneShotEvent::wait(Deadline deadline, Waiter::Interrupt interrupt) {
  if (Reactor* reactor = Reactor::current()) {
    Waiter waiter;
    {
      std::lock_guard lock(mutex_);
      if (set_) return true;
      if (fiber_waiter_) throw std::logic_error("greenrpc::OneShotEvent: only one fiber may wait at a time");
      fiber_reactor_ = reactor;
      fiber_waiter_ = &waiter;
    }
    // No other fiber of this thread runs between unlocking and parking, so a set() from this
    // thread cannot slip in between; one from another thread arrives as a posted task.
    Waiter::Result result = waiter.park(deadline, interrupt);
    {
      std::lock_guard lock(mutex_);
      fiber_waiter_ = nullptr;
      fiber_reactor_ = nullptr;
      if (set_) return true;
    }
    throw_if_interrupted(result, "wait");
    return false;
  }
  std::unique_lock lock(mutex_);
  if (deadline.is_never()) {
    cv_.wait(lock, [&] { return set_; });
    return true;
  }
  return cv_.wait_until(lock, deadline.time_point(), [&] { return set_; });
}

}  // namespace greenrpc
