#pragma once
// Running test code in a fiber: every wait bounded, a stuck loop reported (not hung on).
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <string>

#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"

namespace greenrpc::test {

using namespace std::chrono_literals;

// Runs fn(loop) in a fiber started with spawn_fiber on a fresh loop thread, waits for it at most
// `limit` and rethrows its failure. A fiber that does not finish in time is reported and its
// loop abandoned (leaked on purpose: its fibers may still use it), so a broken wait fails the
// test instead of hanging the suite.
template <class F>
void run_on_loop(F fn, std::chrono::milliseconds limit = 5000ms) {
  auto loop = std::make_unique<EventLoopThread>("test");
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  EventLoopThread* raw = loop.get();
  loop->spawn_fiber([fn = std::move(fn), done, raw]() mutable {
    try {
      fn(*raw);
      done->set_value();
    } catch (...) {
      done->set_exception(std::current_exception());
    }
  });
  if (finished.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "the test fiber did not finish within " << limit.count() << " ms";
    if (!loop->stop_within(Deadline::after(200ms))) {
      loop->abandon();
      (void)loop.release();
    }
    return;
  }
  finished.get();
  if (!loop->stop_within(Deadline::after(3s))) {
    ADD_FAILURE() << "the loop did not stop within 3 s after the test fiber returned";
    loop->abandon();
    (void)loop.release();
  }
}

template <class F>
void run_in_fiber(F fn, std::chrono::milliseconds limit = 5000ms) {
  run_on_loop([fn = std::move(fn)](EventLoopThread&) mutable { fn(); }, limit);
}

inline long ms_between(Clock::time_point a, Clock::time_point b) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
}

}  // namespace greenrpc::test
