#include "greenrpc/runtime/fiber.hpp"

#include <boost/fiber/operations.hpp>
#include <exception>
#include <string>
#include <thread>

#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber_properties.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {
namespace {

struct Inherited {
  Deadline deadline;
  std::shared_ptr<CancelToken> token;
};

void start(std::function<void()> fn, std::size_t stack_size, Inherited inherited) {
  Reactor* reactor = Reactor::current();
  if (!reactor) throw std::logic_error("greenrpc::spawn called outside a greenrpc runtime thread");
  // Constructing the fiber allocates its stack and may throw; it is only queued (not run) here,
  // so counting it afterwards cannot miss its end.
  boost::fibers::fiber fiber(
      std::allocator_arg, GuardedStackPool(stack_size),
      [fn = std::move(fn), inherited = std::move(inherited), reactor]() mutable {
        struct Count {
          Reactor* r;
          ~Count() { r->fiber_ended(); }
        } count{reactor};
        if (!inherited.deadline.is_never() || inherited.token) {
          if (FiberProperties* props = FiberProperties::current(/*create=*/true)) {
            props->deadline = inherited.deadline;
            props->token = std::move(inherited.token);
          }
        }
        // An exception escaping a fiber calls std::terminate: stop it here. Only record in the
        // catch block; never park inside it (boost-fiber-pitfalls.md).
        try {
          fn();
        } catch (const CancelledError& e) {
          GREENRPC_LOG(debug, std::string("fiber cancelled: ") + e.what());
        } catch (const std::exception& e) {
          log_line(LogLevel::error, std::string("fiber ended with an exception: ") + e.what());
        } catch (...) {
          log_line(LogLevel::error, "fiber ended with a non-standard exception");
        }
      });
  reactor->fiber_started();
  fiber.detach();
}

}  // namespace

bool in_runtime() noexcept { return Reactor::current() != nullptr; }

void spawn(std::function<void()> fn, std::size_t stack_size) {
  Inherited inherited;
  if (FiberProperties* props = FiberProperties::current()) inherited = {props->deadline, props->token};
  start(std::move(fn), stack_size, std::move(inherited));
}

namespace detail {
void spawn_detached_context(std::function<void()> fn, std::size_t stack_size) {
  start(std::move(fn), stack_size, Inherited{});
}
}  // namespace detail

void sleep_until(Deadline deadline) {
  if (!in_runtime()) {
    while (deadline.is_never()) std::this_thread::sleep_for(std::chrono::hours(24));
    std::this_thread::sleep_until(deadline.time_point());
    return;
  }
  Waiter waiter;  // nobody else knows it: only the deadline (or an interruption) ends the park
  throw_if_interrupted(waiter.park(deadline), "sleep");
}

void yield() {
  if (in_runtime())
    boost::this_fiber::yield();
  else
    std::this_thread::yield();
}

}  // namespace greenrpc
