#include "greenrpc/runtime/fiber.hpp"

#include <boost/fiber/operations.hpp>
#include <exception>
#include <string>
#include <thread>

#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

bool in_runtime() noexcept { return Reactor::current() != nullptr; }

void spawn(std::function<void()> fn, std::size_t stack_size) {
  boost::fibers::fiber(std::allocator_arg, GuardedStackPool(stack_size), [fn = std::move(fn)] {
    // An exception escaping a fiber calls std::terminate: stop it here. Only record in the
    // catch block; never park inside it (boost-fiber-pitfalls.md).
    try {
      fn();
    } catch (const std::exception& e) {
      log_line(LogLevel::error, std::string("fiber ended with an exception: ") + e.what());
    } catch (...) {
      log_line(LogLevel::error, "fiber ended with a non-standard exception");
    }
  }).detach();
}

void sleep_until(Deadline deadline) {
  if (!in_runtime()) {
    while (deadline.is_never()) std::this_thread::sleep_for(std::chrono::hours(24));
    std::this_thread::sleep_until(deadline.time_point());
    return;
  }
  Waiter waiter;  // nobody else knows it: only the deadline ends the park
  waiter.park(deadline);
}

void yield() {
  if (in_runtime())
    boost::this_fiber::yield();
  else
    std::this_thread::yield();
}

}  // namespace greenrpc
