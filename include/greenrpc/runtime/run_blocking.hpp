#pragma once
// run_blocking(fn): runs a truly blocking call (a legacy library, a blocking database driver) on a
// shared thread pool and parks only the calling fiber until it returns its value or rethrows its
// exception. Outside a runtime thread it simply calls fn.
//
// An OS thread cannot be interrupted: when the waiting fiber is cancelled (CancelledError) or its
// deadline passes (TimeoutError / DeadlineExceededError), the fiber is released at once and the
// job's result is dropped when its thread finishes. The job sees the fiber's deadline through
// current_fiber_deadline() (so client calls it makes inherit it) and can poll
// run_blocking_abandoned() to stop early.
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/fiber_deadline.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"

namespace greenrpc {

// The pool behind run_blocking. Threads start on demand, up to max_threads; a thread idle for a
// few seconds exits, and every idle thread exits at once when the last Lease (held by each
// EventLoopThread: servers' workers, clients' loops) is gone — so no greenrpc thread outlives the
// last App, Client or loop that used it, except one still running a job (it exits after it).
class BlockingPool {
 public:
  static BlockingPool& instance();
  // Thread-safe. Runs `job` on a pool thread.
  void submit(std::function<void()> job);
  // Upper bound on pool threads (default: max(8, 4 × cores)). Jobs beyond it queue.
  void set_max_threads(std::size_t n);
  std::size_t threads() const;

  class Lease {
   public:
    Lease();
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
  };

 private:
  BlockingPool();
  struct Impl;
  Impl* impl_;
};

// On a run_blocking pool thread: true once the fiber that started the job stopped waiting for it
// (cancelled or past its deadline). False elsewhere.
bool run_blocking_abandoned() noexcept;

namespace detail {
template <class T>
struct BlockingResult {
  std::optional<T> value;
  std::exception_ptr error;
};
template <>
struct BlockingResult<void> {
  bool value = false;
  std::exception_ptr error;
};
// Runs a job with the starting fiber's deadline and abandonment flag visible on the pool thread.
void run_job_with(Deadline deadline, const std::atomic<bool>& abandoned, const std::function<void()>& job);
}  // namespace detail

// Waits for fn at most until `deadline` (and the fiber's inherited deadline); on timeout throws
// TimeoutError, on cancellation CancelledError (fn keeps running on its pool thread and its
// result is discarded).
template <class F>
auto run_blocking(F&& fn, Deadline deadline = Deadline::never()) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  if (!in_runtime()) return fn();
  // Shared with the pool thread, which may outlive this call after a timeout: `fn` must own
  // (not reference) whatever it still touches then.
  struct Shared {
    explicit Shared(F&& f) : fn(std::forward<F>(f)) {}
    std::decay_t<F> fn;
    detail::BlockingResult<R> result{};
    std::shared_ptr<OneShotEvent> done = OneShotEvent::create();
    std::atomic<bool> abandoned{false};
  };
  auto shared = std::make_shared<Shared>(std::forward<F>(fn));
  const Deadline inherited = current_fiber_deadline();
  BlockingPool::instance().submit([shared, inherited] {
    detail::run_job_with(inherited, shared->abandoned, [&] {
      try {
        if constexpr (std::is_void_v<R>) {
          shared->fn();
          shared->result.value = true;
        } else {
          shared->result.value.emplace(shared->fn());
        }
      } catch (...) {
        shared->result.error = std::current_exception();  // plain pool thread: safe to capture here
      }
    });
    shared->done->set();
  });
  struct Abandon {  // the fiber stops waiting (timeout, cancel): tell the job
    Shared& s;
    bool armed = true;
    ~Abandon() {
      if (armed) s.abandoned.store(true, std::memory_order_relaxed);
    }
  } abandon{*shared};
  if (!shared->done->wait(deadline)) throw TimeoutError("run_blocking: deadline exceeded");
  abandon.armed = false;
  if (shared->result.error) std::rethrow_exception(shared->result.error);
  if constexpr (!std::is_void_v<R>) return std::move(*shared->result.value);
}

}  // namespace greenrpc
