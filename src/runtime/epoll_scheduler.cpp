#include "greenrpc/runtime/epoll_scheduler.hpp"

#include <boost/fiber/context.hpp>
#include <boost/fiber/operations.hpp>

namespace greenrpc {
namespace {
thread_local Reactor* t_reactor = nullptr;
}

Reactor* Reactor::current() noexcept { return t_reactor; }

EpollScheduler::EpollScheduler() : reactor_(std::make_unique<Reactor>()) { t_reactor = reactor_.get(); }

EpollScheduler::~EpollScheduler() {
  if (t_reactor == reactor_.get()) t_reactor = nullptr;
}

void EpollScheduler::awakened(boost::fibers::context* ctx) noexcept {
  ctx->ready_link(ready_);  // the ready hook, never the wait hook (boostorg/fiber#213)
  if (!ctx->is_context(boost::fibers::type::dispatcher_context)) ++ready_workers_;
}

boost::fibers::context* EpollScheduler::pick_next() noexcept {
  // Under sustained load the queue never empties and suspend_until() is never reached: poll
  // without sleeping every few picks so that sockets, timers and posted work still get served.
  // Only on the dispatcher, which Boost queues behind the ready fibers once per round: polling
  // from a suspending fiber could wake that very fiber (schedule() of the active context) and
  // would run posted tasks on a handler's stack.
  if (!ready_.empty() && ++picks_since_poll_ >= kPicksBetweenPolls &&
      boost::fibers::context::active()->is_context(boost::fibers::type::dispatcher_context)) {
    picks_since_poll_ = 0;
    reactor_->poll(Clock::time_point::min());
  }
  if (ready_.empty()) return nullptr;
  boost::fibers::context* ctx = &ready_.front();
  ready_.pop_front();
  if (!ctx->is_context(boost::fibers::type::dispatcher_context)) --ready_workers_;
  return ctx;
}

bool EpollScheduler::has_ready_fibers() const noexcept {
  return ready_workers_ > 0;  // the dispatcher does not count, or callers spin (boostorg/fiber#98)
}

void EpollScheduler::suspend_until(std::chrono::steady_clock::time_point const& until) noexcept {
  picks_since_poll_ = 0;
  reactor_->poll(until);
}

void EpollScheduler::notify() noexcept { reactor_->wake_up(); }

Reactor& EpollScheduler::install() {
  if (t_reactor) return *t_reactor;
  boost::fibers::use_scheduling_algorithm<EpollScheduler>();
  return *t_reactor;
}

}  // namespace greenrpc
