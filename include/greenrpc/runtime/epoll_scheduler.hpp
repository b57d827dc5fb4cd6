#pragma once
// The Boost.Fiber scheduling algorithm of a greenrpc runtime thread: round-robin over ready
// fibers, and an idle wait that is epoll_wait on the thread's Reactor (timeout = next timer or
// sleeping fiber). notify() — the only method other threads may call — writes the reactor's eventfd.
#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/scheduler.hpp>
#include <memory>

#include "greenrpc/runtime/reactor.hpp"

namespace greenrpc {

class EpollScheduler final : public boost::fibers::algo::algorithm {
 public:
  EpollScheduler();
  ~EpollScheduler() override;

  void awakened(boost::fibers::context* ctx) noexcept override;
  boost::fibers::context* pick_next() noexcept override;
  bool has_ready_fibers() const noexcept override;
  void suspend_until(std::chrono::steady_clock::time_point const& until) noexcept override;
  void notify() noexcept override;

  Reactor& reactor() noexcept { return *reactor_; }

  // Installs a new EpollScheduler (and Reactor) on the calling thread. Call once, first thing.
  static Reactor& install();

 private:
  // Poll I/O without sleeping after this many picks while fibers keep the queue busy.
  static constexpr unsigned kPicksBetweenPolls = 32;

  boost::fibers::scheduler::ready_queue_type ready_;
  std::size_t ready_workers_ = 0;  // ready fibers other than the dispatcher
  unsigned picks_since_poll_ = 0;
  std::unique_ptr<Reactor> reactor_;
};

}  // namespace greenrpc
