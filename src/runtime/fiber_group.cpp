#include "greenrpc/runtime/fiber_group.hpp"

#include <vector>

#include "greenrpc/runtime/one_shot_event.hpp"

namespace greenrpc {

struct FiberGroup::State {  // loop thread only
  std::size_t live = 0;
  std::vector<std::shared_ptr<OneShotEvent>> joiners;  // set when `live` drops to zero
};

FiberGroup::FiberGroup(EventLoopThread& loop) : loop_(loop), state_(std::make_shared<State>()) {}

FiberGroup::~FiberGroup() { join(); }

void FiberGroup::spawn(std::function<void()> fn) {
  // Counted on the loop thread before the fiber exists, so a join() posted after this call
  // (posts run in order) always sees it.
  auto start = [state = state_, &loop = loop_, fn = std::move(fn)]() mutable {
    ++state->live;
    loop.spawn_fiber([state, fn = std::move(fn)] {
      struct Done {
        State& s;
        ~Done() {
          if (--s.live > 0) return;
          for (auto& joiner : s.joiners) joiner->set();
          s.joiners.clear();
        }
      } done{*state};
      fn();
    });
  };
  if (loop_.on_this_thread()) {
    start();
  } else {
    loop_.post(std::move(start));
  }
}

void FiberGroup::join() {
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
  idle->wait();
}

}  // namespace greenrpc
