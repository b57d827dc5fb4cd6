#pragma once
// run_blocking(fn): runs a truly blocking call (a legacy library, a blocking database driver) on a
// shared thread pool and parks only the calling fiber until it returns its value or rethrows its
// exception. Outside a runtime thread it simply calls fn.
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"

namespace greenrpc {

// The pool behind run_blocking. Threads start lazily; the pool grows up to max_threads and idle
// threads beyond the first few exit after a while.
class BlockingPool {
 public:
  static BlockingPool& instance();
  // Thread-safe. Runs `job` on a pool thread.
  void submit(std::function<void()> job);
  // Upper bound on pool threads (default: max(8, 4 × cores)). Call before heavy use.
  void set_max_threads(std::size_t n);
  std::size_t threads() const;

 private:
  BlockingPool();
  struct Impl;
  Impl* impl_;
};

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
}  // namespace detail

// Waits for fn at most until `deadline`; on timeout throws TimeoutError (fn keeps running on its
// pool thread and its result is discarded).
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
  };
  auto shared = std::make_shared<Shared>(std::forward<F>(fn));
  BlockingPool::instance().submit([shared] {
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
    shared->done->set();
  });
  if (!shared->done->wait(deadline)) throw TimeoutError("run_blocking: deadline exceeded");
  if (shared->result.error) std::rethrow_exception(shared->result.error);
  if constexpr (!std::is_void_v<R>) return std::move(*shared->result.value);
}

}  // namespace greenrpc
