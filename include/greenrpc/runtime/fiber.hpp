#pragma once
// Starting fibers and the waits a handler may use. None of these block the thread on a runtime
// thread; on a plain thread they fall back to blocking that thread.
#include <boost/fiber/fiber.hpp>
#include <cstddef>
#include <functional>
#include <utility>

#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/stack_pool.hpp"

namespace greenrpc {

// True when the caller runs on a thread driven by greenrpc's EpollScheduler.
bool in_runtime() noexcept;

// Starts a detached fiber on the calling runtime thread. The new fiber inherits the caller's
// deadline and cancellation token (FiberProperties): fibers a handler starts end with it.
// An exception escaping `fn` is logged and swallowed: it never terminates the process. The
// thread's loop counts the fiber (EventLoopThread waits for it before ending). Throws
// std::bad_alloc when no stack can be had; nothing is then left behind.
void spawn(std::function<void()> fn, std::size_t stack_size = GuardedStackPool::kDefaultStackSize);

// Sleeps the calling fiber (or thread, outside a runtime). In a fiber, throws CancelledError or
// DeadlineExceededError when the fiber's token is cancelled or its inherited deadline passes.
void sleep_until(Deadline deadline);
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  sleep_until(Deadline::after(d));
}
// Lets the other ready fibers of this thread run.
void yield();

namespace detail {
// spawn() without inheriting anything: for infrastructure fibers (connections, client I/O) that
// must not end with the request of whoever happened to start them.
void spawn_detached_context(std::function<void()> fn, std::size_t stack_size);
}  // namespace detail

}  // namespace greenrpc
