#include "greenrpc/runtime/fiber_group.hpp"

#include <exception>
#include <vector>

#include "greenrpc/runtime/fiber.hpp"

#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"

namespace greenrpc {

struct FiberGroup::State {  // loop thread only
  std::size_t live = 0;
  std::vector<std::shared_ptr<OneShotEvent>> joiners;  // set when `live` drops to zero
  void fiber_done() {
    if (--live > 0) return;
    for (auto& joiner : joiners) joiner->set();
    joiners.clear();
  }
};

FiberGroup::FiberGroup(EventLoopThread& loop) : loop_(loop), state_(std::make_shared<State>()) {}

FiberGroup::~FiberGroup() {
  if (in_runtime() && std::uncaught_exceptions() > 0)
    log_line(LogLevel::error,
             "FiberGroup (or a Client) destroyed by stack unwinding in a fiber: the join parks the fiber, which "
             "Boost 1.74 does not survive safely; destroy it after the catch block instead");
  join(Waiter::Interrupt::ignore);
}

void FiberGroup::spawn(std::function<void()> fn) {
  // Counted on the loop thread before the fiber exists, so a join() posted after this call
  // (posts run in order) always sees it.
  auto start = [state = state_, &loop = loop_, fn = std::move(fn)]() mutable {
    ++state->live;
    bool started = false;
    try {
      loop.spawn_fiber([state, fn = std::move(fn)] {
        struct Done {
          std::shared_ptr<State> s;
          ~Done() { s->fiber_done(); }
        } done{state};
        fn();
      });
      started = true;
    } catch (const std::exception& e) {
      log_line(LogLevel::error, std::string("FiberGroup: cannot start a fiber: ") + e.what());
    }
    if (!started) state->fiber_done();  // no stack: the count must not stay raised
  };
  if (loop_.on_this_thread()) {
    start();
  } else {
    loop_.post(std::move(start));
  }
}

void FiberGroup::join(Waiter::Interrupt interrupt) {
  auto idle = OneShotEvent::create();
  auto check = [state = state_, idle] {
    if (state->live == 0) {
      idle->set();
    } else {
      state->joiners.push_back(idle);
    }
  };
  if (loop_.on_this_thread()) {
    check();
  } else if (!loop_.post(check)) {
    return;  // the loop has ended, and with it every fiber it ran
  }
  idle->wait(Deadline::never(), interrupt);
}

}  // namespace greenrpc
