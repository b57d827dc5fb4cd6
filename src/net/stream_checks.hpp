#pragma once
// Debug-build checks of ByteStream's concurrency contract (private to net): one fiber at a time per
// direction. Compiled out with NDEBUG, like assert.
#include <cassert>

namespace greenrpc::net_detail {

#ifndef NDEBUG
// Marks a direction busy for the lifetime of the guard; asserts nobody else is inside it.
class OneAtATime {
 public:
  explicit OneAtATime(bool& busy) : busy_(busy) {
    assert(!busy_ && "greenrpc::ByteStream: two fibers in the same direction at once (one reader, one writer)");
    busy_ = true;
  }
  ~OneAtATime() { busy_ = false; }
  OneAtATime(const OneAtATime&) = delete;
  OneAtATime& operator=(const OneAtATime&) = delete;

 private:
  bool& busy_;
};
#define GREENRPC_ONE_AT_A_TIME(flag) ::greenrpc::net_detail::OneAtATime greenrpc_one_at_a_time_##flag(flag)
#else
#define GREENRPC_ONE_AT_A_TIME(flag) ((void)0)
#endif

}  // namespace greenrpc::net_detail
