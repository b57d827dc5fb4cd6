#include "greenrpc/runtime/fiber_deadline.hpp"

#include "greenrpc/runtime/fiber_properties.hpp"
#include "greenrpc/runtime/reactor.hpp"

namespace greenrpc {
namespace {
thread_local Deadline t_job_deadline;  // a run_blocking pool thread's inherited deadline
}

Deadline current_fiber_deadline() noexcept {
  if (!Reactor::current()) return t_job_deadline;
  FiberProperties* props = FiberProperties::current();
  return props ? props->deadline : Deadline::never();
}

FiberDeadlineScope::FiberDeadlineScope(Deadline deadline) {
  if (deadline.is_never()) return;
  FiberProperties* props = FiberProperties::current(/*create=*/true);
  if (!props) return;
  previous_ = props->deadline;
  props->deadline = earliest(previous_, deadline);
  active_ = true;
}

FiberDeadlineScope::~FiberDeadlineScope() {
  if (!active_) return;
  if (FiberProperties* props = FiberProperties::current()) props->deadline = previous_;
}

namespace detail {
ThreadDeadlineScope::ThreadDeadlineScope(Deadline deadline) : previous_(t_job_deadline) { t_job_deadline = deadline; }
ThreadDeadlineScope::~ThreadDeadlineScope() { t_job_deadline = previous_; }
}  // namespace detail

}  // namespace greenrpc
