#pragma once
// Cancellation of the fibers serving one request. A token belongs to one runtime thread: its
// owner cancels it there (a server posts the cancel to the worker that owns the request). Every
// greenrpc wait of a fiber that carries the token (FiberProperties::token) then ends at once with
// CancelledError: socket waits, sleep_for, run_blocking, client calls, OneShotEvent, Mutex,
// FiberGroup::join. A cancelled token stays cancelled; a fiber that starts a wait under it is
// woken immediately.
//
//   auto token = CancelToken::create();
//   CancelScope scope(token);   // this fiber, and fibers it spawns, now carry it
//   ...                         // some other fiber of the thread: token->cancel();
#include <memory>

#include <boost/intrusive/list.hpp>

#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

class CancelToken {
 public:
  static std::shared_ptr<CancelToken> create() { return std::make_shared<CancelToken>(); }
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;
  ~CancelToken();

  // Owner thread only. Wakes every fiber parked under this token with `cancelled`; idempotent.
  void cancel();
  bool cancelled() const noexcept { return cancelled_; }

 private:
  friend class Waiter;
  using ParkedList = boost::intrusive::list<
      Waiter, boost::intrusive::member_hook<Waiter, Waiter::CancelHook, &Waiter::cancel_hook_>,
      boost::intrusive::constant_time_size<false>>;
  ParkedList parked_;
  bool cancelled_ = false;
};

// Gives the calling fiber `token` for the scope's lifetime (the previous one comes back after).
// Fibers spawned with greenrpc::spawn inside the scope keep the token for their whole life.
class CancelScope {
 public:
  explicit CancelScope(std::shared_ptr<CancelToken> token);
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  std::shared_ptr<CancelToken> previous_;
  bool active_ = false;
};

// Throws CancelledError when the calling fiber's token is cancelled, DeadlineExceededError when
// its inherited deadline has passed: a check for loops that compute without parking.
void check_interrupted();

}  // namespace greenrpc
