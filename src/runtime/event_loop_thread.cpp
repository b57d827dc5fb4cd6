#include "greenrpc/runtime/event_loop_thread.hpp"

#include <pthread.h>

#include <future>
#include <mutex>

#include "greenrpc/runtime/epoll_scheduler.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

struct EventLoopThread::State {
  std::mutex mutex;  // guards `alive` against the reactor going away under a post()
  bool alive = false;
  bool stop_asked = false;  // set under `mutex`
  // Loop-thread only:
  bool stopping = false;
  std::size_t live_fibers = 0;
  Waiter* main_waiter = nullptr;
};

EventLoopThread::EventLoopThread(std::string name) : state_(std::make_shared<State>()) {
  std::promise<Reactor*> started;
  auto ready = started.get_future();
  thread_ = std::thread([state = state_, name = std::move(name), started = std::move(started)]() mutable {
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
    Reactor& reactor = EpollScheduler::install();
    {
      std::lock_guard lock(state->mutex);
      state->alive = true;
    }
    started.set_value(&reactor);
    // The main fiber parks until asked to stop, then until every fiber it started is done.
    for (;;) {
      while (!state->stopping || state->live_fibers > 0) {
        Waiter waiter;
        state->main_waiter = &waiter;
        waiter.park();
        state->main_waiter = nullptr;
      }
      {
        std::lock_guard lock(state->mutex);
        state->alive = false;  // posts from now on are refused; the reactor dies with the thread
      }
      // A post() accepted after the last poll and before the line above still runs: its caller
      // was told it would. If it started a fiber, wait for that one too.
      reactor.poll(Clock::time_point::min());
      if (state->live_fibers == 0) break;
    }
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
  auto start = [state = state_, fn = std::move(fn), stack_size]() mutable {
    ++state->live_fibers;
    spawn(
        [state, fn = std::move(fn)] {
          struct Done {
            State* s;
            ~Done() {
              if (--s->live_fibers == 0 && s->stopping && s->main_waiter) s->main_waiter->wake();
            }
          } done{state.get()};
          fn();
        },
        stack_size);
  };
  if (on_this_thread())
    start();
  else
    post(std::move(start));
}

void EventLoopThread::stop() {
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->stop_asked && state_->alive) {
      state_->stop_asked = true;
      reactor_->post([state = state_] {
        state->stopping = true;
        if (state->main_waiter) state->main_waiter->wake();
      });
    }
  }
  if (!on_this_thread() && thread_.joinable()) thread_.join();
}

}  // namespace greenrpc
