#pragma once
// The deadline of the request the current fiber is serving, so that calls a handler makes inherit
// it (userver-style deadline propagation). Keyed by fiber, never by thread: handlers park and
// other fibers of the same thread run in between.
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

// The innermost scope's deadline of the calling fiber, or never.
Deadline current_fiber_deadline() noexcept;

// Sets the calling fiber's deadline for the scope's lifetime (scopes nest: the tighter wins).
class FiberDeadlineScope {
 public:
  explicit FiberDeadlineScope(Deadline deadline);
  ~FiberDeadlineScope();
  FiberDeadlineScope(const FiberDeadlineScope&) = delete;
  FiberDeadlineScope& operator=(const FiberDeadlineScope&) = delete;

 private:
  void* fiber_ = nullptr;
  Deadline previous_;
  bool active_ = false;
};

}  // namespace greenrpc
