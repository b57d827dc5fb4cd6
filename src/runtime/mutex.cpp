#include "greenrpc/runtime/mutex.hpp"

#include <algorithm>

namespace greenrpc {

bool Mutex::try_lock() {
  std::lock_guard guard(state_);
  if (locked_) return false;
  locked_ = true;
  return true;
}

bool Mutex::try_lock_until(Deadline deadline) {
  std::shared_ptr<OneShotEvent> ticket;
  {
    std::lock_guard guard(state_);
    if (!locked_) {
      locked_ = true;
      return true;
    }
    ticket = OneShotEvent::create();
    waiters_.push_back(ticket);
  }
  // On a timeout, a cancellation or a deadline, the ticket is withdrawn — or, if ownership was
  // handed over meanwhile, passed on — before leaving.
  struct Withdraw {
    Mutex& m;
    const std::shared_ptr<OneShotEvent>& t;
    bool armed = true;
    ~Withdraw() {
      if (armed) m.give_up(t);
    }
  } withdraw{*this, ticket};
  const bool owned = ticket->wait(deadline);  // set wins over a simultaneous cancel
  withdraw.armed = !owned;
  return owned;
}

void Mutex::give_up(const std::shared_ptr<OneShotEvent>& ticket) {
  std::unique_lock guard(state_);
  auto it = std::find(waiters_.begin(), waiters_.end(), ticket);
  if (it != waiters_.end()) {
    waiters_.erase(it);
    return;
  }
  guard.unlock();
  unlock();  // it was handed to us as we stopped waiting: pass it on
}

void Mutex::unlock() {
  std::shared_ptr<OneShotEvent> next;
  {
    std::lock_guard guard(state_);
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    next = std::move(waiters_.front());
    waiters_.pop_front();
  }
  next->set();  // ownership moves with the wake; locked_ stays true
}

}  // namespace greenrpc
