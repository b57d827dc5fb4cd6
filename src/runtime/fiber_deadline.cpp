#include "greenrpc/runtime/fiber_deadline.hpp"

#include <boost/fiber/context.hpp>
#include <unordered_map>

#include "greenrpc/runtime/reactor.hpp"

namespace greenrpc {
namespace {

// Only fibers inside a scope have an entry; a thread serving requests without deadlines never
// touches the map.
std::unordered_map<void*, Deadline>& deadlines() {
  thread_local std::unordered_map<void*, Deadline> map;
  return map;
}

void* this_fiber() noexcept {
  return Reactor::current() ? static_cast<void*>(boost::fibers::context::active()) : nullptr;
}

}  // namespace

Deadline current_fiber_deadline() noexcept {
  void* fiber = this_fiber();
  if (!fiber) return Deadline::never();
  auto& map = deadlines();
  if (map.empty()) return Deadline::never();
  auto it = map.find(fiber);
  return it == map.end() ? Deadline::never() : it->second;
}

FiberDeadlineScope::FiberDeadlineScope(Deadline deadline) {
  if (deadline.is_never()) return;
  fiber_ = this_fiber();
  if (!fiber_) return;
  auto& map = deadlines();
  auto [it, inserted] = map.try_emplace(fiber_, deadline);
  previous_ = inserted ? Deadline::never() : it->second;
  if (!inserted) it->second = earliest(it->second, deadline);
  active_ = true;
}

FiberDeadlineScope::~FiberDeadlineScope() {
  if (!active_) return;
  auto& map = deadlines();
  if (previous_.is_never())
    map.erase(fiber_);
  else
    map[fiber_] = previous_;
}

}  // namespace greenrpc
