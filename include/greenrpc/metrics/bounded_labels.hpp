#pragma once
// A bounded set of label values (Prometheus's cardinality rule): fixed values first, then values
// as first seen up to a maximum, then every later value shares "other". Lookups are lock-free;
// adding a value takes a mutex (rare: once per distinct value). Thread-safe.
#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace greenrpc::metrics {

class BoundedLabels {
 public:
  // `fixed` are indices 0..; `max` includes them and the final "other".
  BoundedLabels(std::initializer_list<std::string_view> fixed, std::size_t max)
      : max_(max < fixed.size() + 1 ? fixed.size() + 1 : max), names_(std::make_unique<std::string[]>(max_)) {
    std::size_t n = 0;
    for (std::string_view f : fixed) names_[n++] = std::string(f);
    names_[max_ - 1] = "other";
    size_.store(n, std::memory_order_release);
  }

  // The index of `value`, added when new and there is room, else other().
  std::size_t index_of(std::string_view value) {
    std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i)
      if (names_[i] == value) return i;
    if (n >= other()) return other();  // full: no lock for the values that share "other"
    std::lock_guard lock(mutex_);
    n = size();
    for (std::size_t i = 0; i < n; ++i)  // added by another thread meanwhile
      if (names_[i] == value) return i;
    if (n >= other()) return other();
    names_[n] = std::string(value);
    size_.store(n + 1, std::memory_order_release);  // published once the name is written
    return n;
  }
  // Values in use are 0..size()-1, plus other().
  std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }
  std::size_t capacity() const noexcept { return max_; }
  std::size_t other() const noexcept { return max_ - 1; }
  std::string_view name(std::size_t i) const noexcept { return names_[i]; }

 private:
  std::size_t max_;
  std::unique_ptr<std::string[]> names_;
  std::atomic<std::size_t> size_{0};
  std::mutex mutex_;
};

}  // namespace greenrpc::metrics
