#pragma once
// A one-time signal that may be set from any thread and waited on from either a fiber of a
// greenrpc runtime thread (parks only the fiber) or a plain thread (blocks it). The wake of a
// fiber is delivered through its own reactor's post() queue — never by a raw cross-thread
// schedule() (boostorg/fiber#109) and never with a cross-thread timed wait on fiber primitives.
#include <condition_variable>
#include <memory>
#include <mutex>

#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

class Reactor;

class OneShotEvent : public std::enable_shared_from_this<OneShotEvent> {
 public:
  // Must be owned by a std::shared_ptr (set() keeps it alive while a wake is in flight). One
  // allocation: the event and its control block together.
  static std::shared_ptr<OneShotEvent> create() { return std::make_shared<OneShotEvent>(Key{}); }
  struct Key {  // only create() can name it, so only create() can construct
   private:
    friend class OneShotEvent;
    Key() = default;
  };
  explicit OneShotEvent(Key) {}

  void set();
  bool is_set() const;
  // True when set, false when the deadline passed first. A waiting fiber also ends its wait
  // when its CancelToken is cancelled (CancelledError) or its inherited deadline passes
  // (DeadlineExceededError) — unless `interrupt` is Interrupt::ignore. Set wins over both.
  bool wait(Deadline deadline = Deadline::never(), Waiter::Interrupt interrupt = Waiter::Interrupt::honour);

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
  Reactor* fiber_reactor_ = nullptr;  // a parked fiber's reactor, and its waiter
  Waiter* fiber_waiter_ = nullptr;
};

}  // namespace greenrpc
