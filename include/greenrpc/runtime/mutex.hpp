#pragma once
// A mutex for handlers: fibers of any runtime thread and plain threads may share it. A fiber
// waiting for it parks (only the fiber) and its wait ends like every greenrpc wait: with
// CancelledError when its request is cancelled, DeadlineExceededError when the request's deadline
// passes. A plain thread blocks. Ownership is handed to waiters in arrival order.
//
// Prefer it to boost::fibers::mutex wherever a request may hold or wait: Boost 1.74's timed
// waits race (boostorg/fiber #251, #259), a plain thread locking a fiber mutex can deadlock
// (#316), and neither knows greenrpc's cancellation.
//
//   greenrpc::Mutex mu;
//   app.command("bump", [&] { std::lock_guard lock(mu); return ++counter; });
#include <deque>
#include <memory>
#include <mutex>

#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"

namespace greenrpc {

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Waits as long as it takes (or until the fiber's request is cancelled or its deadline passes).
  void lock() { (void)try_lock_until(Deadline::never()); }
  bool try_lock();
  // False when `deadline` passed first (the mutex is then not held).
  bool try_lock_until(Deadline deadline);
  // Hands the mutex to the longest waiter, if any.
  void unlock();

 private:
  void give_up(const std::shared_ptr<OneShotEvent>& ticket);

  std::mutex state_;  // held only for a few instructions, never across a park
  bool locked_ = false;
  std::deque<std::shared_ptr<OneShotEvent>> waiters_;  // set = ownership handed over
};

}  // namespace greenrpc
