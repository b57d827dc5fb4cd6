#pragma once
// What a fiber carries for the request it serves: the caller's deadline and a cancellation
// token. O(1) per-fiber storage in Boost.Fiber's own slot (context::set_properties), created on
// first use, freed with the fiber. greenrpc::spawn copies both into the new fiber and
// run_blocking hands the deadline to its pool thread (userver's task-inherited deadline).
// Infrastructure fibers (EventLoopThread::spawn_fiber: connections, client I/O) start clean.
#include <memory>

#include <boost/fiber/properties.hpp>

#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

class CancelToken;

class FiberProperties final : public boost::fibers::fiber_properties {
 public:
  using boost::fibers::fiber_properties::fiber_properties;

  Deadline deadline;                   // never, unless a request's deadline applies
  std::shared_ptr<CancelToken> token;  // null: not cancellable by anyone but its own I/O

  // The calling fiber's properties, or nullptr: off a runtime thread, on the scheduler's
  // dispatcher (posted tasks run there), or (unless `create`) when the fiber has none yet.
  static FiberProperties* current(bool create = false) noexcept;
};

}  // namespace greenrpc
