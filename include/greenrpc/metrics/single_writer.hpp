#pragma once
// Metrics primitives written by one thread and read by any (a scrape): plain relaxed stores, no
// read-modify-write, so the thread that counts never contends with another core for the line.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace greenrpc::metrics {

class SingleWriterCounter {
 public:
  void add(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// Latency buckets (seconds), 10 µs to 10 s, for the server's and the client's histograms.
inline constexpr std::array<double, 19> kLatencyBounds = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                          0.0025,  0.005,    0.01,    0.025,  0.05,    0.1,    0.25,
                                                          0.5,     1,        2.5,     5,      10};
inline constexpr std::size_t kLatencyBuckets = kLatencyBounds.size() + 1;  // the last: +Inf

// The bucket of a duration: the first bound >= it (le is inclusive), else the +Inf bucket.
inline std::size_t latency_bucket(std::int64_t ns) noexcept {
  static constexpr std::array<std::int64_t, kLatencyBounds.size()> kBoundsNs = [] {
    std::array<std::int64_t, kLatencyBounds.size()> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int64_t>(kLatencyBounds[i] * 1e9 + 0.5);
    return out;
  }();
  return static_cast<std::size_t>(std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), ns) - kBoundsNs.begin());
}

}  // namespace greenrpc::metrics
