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

// Starts a detached fiber on the calling thread. An exception escaping `fn` is logged and
// swallowed: it never terminates the process.
void spawn(std::function<void()> fn, std::size_t stack_size = GuardedStackPool::kDefaultStackSize);

// Sleeps the calling fiber (or thread, outside a runtime).
void sleep_until(Deadline deadline);
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  sleep_until(Deadline::after(d));
}
// Lets the other ready fibers of this thread run.
void yield();

}  // namespace greenrpc
