#include "greenrpc/runtime/cancel_token.hpp"
#include <utility>

#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber_properties.hpp"

namespace greenrpc {

CancelToken::~CancelToken() { parked_.clear(); }  // waiters unlink themselves; nothing to wake

void CancelToken::cancel() {
  cancelled_ = true;
  // resume() unlinks each waiter from the list.
  while (!parked_.empty()) parked_.front().cancel();
}

CancelScope::CancelScope(std::shared_ptr<CancelToken> token) {
  FiberProperties* props = FiberProperties::current(/*create=*/true);
  if (!props) return;
  previous_ = std::exchange(props->token, std::move(token));
  active_ = true;
}

CancelScope::~CancelScope() {
  if (!active_) return;
  if (FiberProperties* props = FiberProperties::current()) props->token = std::move(previous_);
}

void check_interrupted() {
  FiberProperties* props = FiberProperties::current();
  if (!props) return;
  if (props->token && props->token->cancelled()) throw CancelledError("request cancelled");
  if (props->deadline.expired()) throw DeadlineExceededError("the request's deadline passed");
}

}  // namespace greenrpc
