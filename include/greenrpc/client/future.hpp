#pragma once
// The result of Client::call_async: get() waits — parking only the fiber inside a runtime, or
// blocking a plain thread — then decodes the reply or throws the call's error.
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "greenrpc/client/pending_call.hpp"
#include "greenrpc/client/reply_decoding.hpp"

namespace greenrpc {

template <class T>
class Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<detail::PendingCall> call, codec::DecodeLimits limits)
      : call_(std::move(call)), limits_(limits) {}
  // One owner: a copy could get() the same call twice, or wait on it from two fibers at once.
  Future(Future&&) noexcept = default;
  Future& operator=(Future&&) noexcept = default;
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;

  bool valid() const noexcept { return call_ != nullptr; }
  bool ready() const { return call_ && call_->done->is_set(); }
  // Waits at most `timeout` (without consuming the result); true when the reply is there.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    if (!call_) throw std::logic_error("greenrpc::Future::wait_for on an empty or already consumed future");
    return call_->done->wait(earliest(Deadline::after(timeout), call_->deadline));
  }
  // The decoded result. Call once: afterwards the future is no longer valid().
  T get() {
    if (!call_) throw std::logic_error("greenrpc::Future::get on an empty or already consumed future");
    auto call = std::move(call_);
    return detail::decode_reply<T>(detail::await_reply(*call), limits_);
  }

 private:
  std::shared_ptr<detail::PendingCall> call_;
  codec::DecodeLimits limits_;
};

}  // namespace greenrpc
