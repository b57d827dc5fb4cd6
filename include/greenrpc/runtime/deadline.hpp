#pragma once
// A point in time after which a blocking operation gives up. Every wait in greenrpc takes one.
#include <chrono>

namespace greenrpc {

using Clock = std::chrono::steady_clock;

class Deadline {
 public:
  constexpr Deadline() = default;  // never expires
  constexpr explicit Deadline(Clock::time_point at) : at_(at) {}

  static constexpr Deadline never() { return Deadline{}; }
  template <class Rep, class Period>
  static Deadline after(std::chrono::duration<Rep, Period> d) {
    return Deadline{Clock::now() + std::chrono::duration_cast<Clock::duration>(d)};
  }

  constexpr bool is_never() const { return at_ == Clock::time_point::max(); }
  constexpr Clock::time_point time_point() const { return at_; }
  bool expired() const { return !is_never() && Clock::now() >= at_; }
  // Time left, clamped at zero; Clock::duration::max() for never.
  Clock::duration remaining() const {
    if (is_never()) return Clock::duration::max();
    auto left = at_ - Clock::now();
    return left.count() > 0 ? left : Clock::duration::zero();
  }
  // The tighter of two deadlines.
  friend constexpr Deadline earliest(Deadline a, Deadline b) { return a.at_ < b.at_ ? a : b; }
  friend constexpr bool operator==(Deadline a, Deadline b) { return a.at_ == b.at_; }

 private:
  Clock::time_point at_ = Clock::time_point::max();
};

}  // namespace greenrpc
