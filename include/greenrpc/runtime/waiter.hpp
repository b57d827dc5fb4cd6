#pragma once
// Parks the current fiber until another fiber of the same thread (or the reactor) wakes it,
// or until a deadline. The one primitive every greenrpc wait is built on.
//
// Exactly one of {wake, timeout, cancel} resumes a parked fiber: the per-waiter state makes a
// second event a no-op, so a fiber is never scheduled twice (see boost-fiber-pitfalls.md).
//
// An interruptible park (the default) also honours the fiber's FiberProperties: it ends with
// `cancelled` when the fiber's CancelToken is cancelled (or already was), and with
// `deadline_exceeded` when the fiber's inherited deadline passes before the park's own one.
//
// Without a fiber, a waiter can also be armed with a callback (arm): the same three events then
// call it once instead of scheduling a fiber. A connection that gave its fiber back while idle
// waits this way (ByteStream::notify_readable).
#include <boost/intrusive/list_hook.hpp>
#include <boost/intrusive/set_hook.hpp>

#include "greenrpc/runtime/deadline.hpp"

namespace boost::fibers {
class context;
}

namespace greenrpc {

class Reactor;
class CancelToken;

class Waiter {
 public:
  enum class Result { woken, timed_out, cancelled, deadline_exceeded };
  enum class Interrupt { honour, ignore };

  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();

  // Parks the calling fiber. Must run on a greenrpc runtime thread, in a fiber (not in a task
  // posted to the reactor). `Interrupt::ignore` is for waits that must end on their own terms
  // (destructors joining their fibers, a loop's main fiber).
  Result park(Deadline deadline = Deadline::never(), Interrupt interrupt = Interrupt::honour);

  // Wakes the parked fiber. Same thread only; returns false when nobody is parked (already woken,
  // timed out, or never parked), which is harmless.
  bool wake() { return resume(Result::woken); }
  bool cancel() { return resume(Result::cancelled); }

  // Fiber-free wait: the first of {wake, cancel, the deadline} calls `callback(arg, why)` once, on
  // the owner thread, from wherever that event happened (the reactor's poll on the scheduler's
  // small stack, a posted task, or a fiber calling wake/cancel): keep it short, e.g. spawn a
  // fiber. Not tied to any fiber's CancelToken or deadline. Owner thread only; the waiter must
  // not be parked or armed already, and must stay alive until the call or disarm().
  using Callback = void (*)(void* arg, Result why);
  void arm(Deadline deadline, Callback callback, void* arg);
  // Withdraws an armed callback without calling it; no-op when not armed.
  void disarm() noexcept;
  bool armed() const noexcept { return callback_ != nullptr; }

  using CancelHook = boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

 private:
  friend class Reactor;
  friend class CancelToken;
  bool resume(Result why);

  boost::fibers::context* ctx_ = nullptr;
  Callback callback_ = nullptr;  // armed without a fiber (ctx_ is then null)
  void* callback_arg_ = nullptr;
  Reactor* reactor_ = nullptr;
  Result result_ = Result::woken;
  // In the reactor's timer set while parked with a deadline: the waiter lives on the parked
  // fiber's stack, so a timed park allocates nothing.
  boost::intrusive::set_member_hook<> timer_hook_;
  Clock::time_point due_{};
  bool due_inherited_ = false;  // the timer is the fiber's inherited deadline, not the park's own
  // In the fiber's CancelToken's list while parked (auto-unlinks when the waiter goes away).
  CancelHook cancel_hook_;
};

// Throws for a park that ended by `cancelled` (CancelledError) or `deadline_exceeded`
// (DeadlineExceededError), naming `what`; returns for `woken` and `timed_out`.
void throw_if_interrupted(Waiter::Result result, const char* what);

}  // namespace greenrpc
