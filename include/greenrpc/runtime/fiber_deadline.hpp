#pragma once
// The deadline of the request the current fiber is serving, so that calls a handler makes, fibers
// it spawns and run_blocking jobs it starts inherit it (userver-style deadline propagation).
// Stored in the fiber's FiberProperties; on a run_blocking pool thread, the deadline of the fiber
// that started the job.
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

// The calling fiber's deadline (or the run_blocking job's), or never.
Deadline current_fiber_deadline() noexcept;

// Sets the calling fiber's deadline for the scope's lifetime (scopes nest: the tighter wins).
// Every greenrpc wait of the fiber ends with DeadlineExceededError once it passes.
class FiberDeadlineScope {
 public:
  explicit FiberDeadlineScope(Deadline deadline);
  ~FiberDeadlineScope();
  FiberDeadlineScope(const FiberDeadlineScope&) = delete;
  FiberDeadlineScope& operator=(const FiberDeadlineScope&) = delete;

 private:
  Deadline previous_;
  bool active_ = false;
};

namespace detail {
// Run by run_blocking's pool thread around a job: the job sees the starting fiber's deadline.
class ThreadDeadlineScope {
 public:
  explicit ThreadDeadlineScope(Deadline deadline);
  ~ThreadDeadlineScope();
  ThreadDeadlineScope(const ThreadDeadlineScope&) = delete;
  ThreadDeadlineScope& operator=(const ThreadDeadlineScope&) = delete;

 private:
  Deadline previous_;
};
}  // namespace detail

}  // namespace greenrpc
