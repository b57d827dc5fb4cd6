#pragma once
// Parks the current fiber until another fiber of the same thread (or the reactor) wakes it,
// or until a deadline. The one primitive every greenrpc wait is built on.
//
// Exactly one of {wake, timeout, cancel} resumes a parked fiber: the per-waiter state makes a
// second event a no-op, so a fiber is never scheduled twice (see boost-fiber-pitfalls.md).
#include <boost/intrusive/set_hook.hpp>

#include "greenrpc/runtime/deadline.hpp"

namespace boost::fibers {
class context;
}

namespace greenrpc {

class Reactor;

class Waiter {
 public:
  enum class Result { woken, timed_out, cancelled };

  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();

  // Parks the calling fiber. Must run on a greenrpc runtime thread.
  Result park(Deadline deadline = Deadline::never());

  // Wakes the parked fiber. Same thread only; returns false when nobody is parked (already woken,
  // timed out, or never parked), which is harmless.
  bool wake() { return resume(Result::woken); }
  bool cancel() { return resume(Result::cancelled); }

 private:
  friend class Reactor;
  bool resume(Result why);

  boost::fibers::context* ctx_ = nullptr;
  Reactor* reactor_ = nullptr;
  Result result_ = Result::woken;
  // In the reactor's timer set while parked with a deadline: the waiter lives on the parked
  // fiber's stack, so a timed park allocates nothing.
  boost::intrusive::set_member_hook<> timer_hook_;
  Clock::time_point due_{};
};

}  // namespace greenrpc
