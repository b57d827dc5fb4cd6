#include "greenrpc/runtime/event_loop_thread.hpp"

#include <pthread.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "greenrpc/runtime/epoll_scheduler.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/run_blocking.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

struct EventLoopThread::State {
  std::mutex mutex;  // guards `alive` against the reactor going away under a post()
  bool alive = false;
  bool stop_asked = false;  // set under `mutex`
  bool finished = false;    // the thread's function returned (set under `mutex`)
  std::condition_variable finished_cv;
  // Loop-thread only:
  bool stopping = false;
  Waiter* main_waiter = nullptr;
};

EventLoopThread::EventLoopThread(std::string name) : state_(std::make_shared<State>()) {
  std::promise<Reactor*> started;
  auto ready = started.get_future();
  thread_ = std::thread([state = state_, name = std::move(name), started = std::move(started)]() mutable {
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
    BlockingPool::Lease pool_lease;  // run_blocking's threads end once no loop is left
    Reactor& reactor = EpollScheduler::install();
    {
      std::lock_guard lock(state->mutex);
      state->alive = true;
    }
    started.set_value(&reactor);
    // The main fiber parks until asked to stop, then until every fiber started on this thread
    // through greenrpc (spawn_fiber and greenrpc::spawn alike) is done.
    for (;;) {
      while (!state->stopping || reactor.live_fibers() > 0) {
        Waiter waiter;
        state->main_waiter = &waiter;
        reactor.watch_fibers_done(state->stopping ? &waiter : nullptr);
        waiter.park(Deadline::never(), Waiter::Interrupt::ignore);
        reactor.watch_fibers_done(nullptr);
        state->main_waiter = nullptr;
      }
      {
        std::lock_guard lock(state->mutex);
        state->alive = false;  // posts from now on are refused; the reactor dies with the thread
      }
      // A post() accepted after the last poll and before the line above still runs: its caller
      // was told it would. If it started a fiber, wait for that one too.
      reactor.poll(Clock::time_point::min());
      if (reactor.live_fibers() == 0) break;
    }
    std::lock_guard lock(state->mutex);
    state->finished = true;
    state->finished_cv.notify_all();
  });
  reactor_ = ready.get();
}

EventLoopThread::~EventLoopThread() { stop(); }

bool EventLoopThread::post(std::function<void()> task) {
  std::lock_guard lock(state_->mutex);
  if (!state_->alive) {
    GREENRPC_LOG(debug, "EventLoopThread::post after the loop ended: task dropped");
    return false;
  }
  reactor_->post(std::move(task));
  return true;
}

void EventLoopThread::spawn_fiber(std::function<void()> fn, std::size_t stack_size) {
  if (on_this_thread()) return detail::spawn_detached_context(std::move(fn), stack_size);  // may throw
  post([fn = std::move(fn), stack_size]() mutable {
    std::string failure;
    try {
      detail::spawn_detached_context(std::move(fn), stack_size);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) log_line(LogLevel::error, "EventLoopThread: cannot start a fiber: " + failure);
  });
}

void EventLoopThread::ask_to_stop() {
  std::lock_guard lock(state_->mutex);
  if (!state_->stop_asked && state_->alive) {
    state_->stop_asked = true;
    reactor_->post([state = state_] {
      state->stopping = true;
      if (state->main_waiter) state->main_waiter->wake();
    });
  }
}

void EventLoopThread::stop() {
  ask_to_stop();
  if (!on_this_thread() && thread_.joinable()) thread_.join();
}

bool EventLoopThread::stop_within(Deadline deadline) {
  ask_to_stop();
  if (on_this_thread() || !thread_.joinable()) return !thread_.joinable();
  {
    std::unique_lock lock(state_->mutex);
    auto done = [&] { return state_->finished; };
    if (deadline.is_never())
      state_->finished_cv.wait(lock, done);
    else if (!state_->finished_cv.wait_until(lock, deadline.time_point(), done))
      return false;
  }
  thread_.join();
  return true;
}

void EventLoopThread::abandon() {
  if (thread_.joinable() && !on_this_thread()) thread_.detach();
}

}  // namespace greenrpc
