#pragma once
// The legacy program, shared by legacy_threads_client and `legacy_threads_server --self-test`.
//
// A multi-threaded program with no greenrpc runtime at all: plain std::threads that share ONE
// greenrpc::Client. A call from a plain thread blocks only that thread; calls from all threads
// are pipelined over the client's single connection (driven by the client's own I/O thread) and
// each reply is matched to its caller. Then one thread fans out many call_async()s and collects
// them with Future::get(). Returns false when a result is wrong or a call fails.
//
// Note: the server answers a connection's requests in order, one at a time. A slow command (one
// that parks in sleep_for or run_blocking) therefore delays every thread's calls queued behind it
// on that connection. When some commands are slow, give the shared client a few connections
// (ClientOptions::connections = N; calls are spread over them round-robin).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "api.hpp"

struct LegacyLoad {
  int threads = 8;
  int calls_per_thread = 2'000;
  int fan_out = 10'000;
};

inline bool run_client(const std::string& host, std::uint16_t port, const LegacyLoad& load) {
  using Clock = std::chrono::steady_clock;
  auto per_second = [](std::size_t n, Clock::duration d) {
    return static_cast<double>(n) / std::chrono::duration<double>(d).count();
  };

  // ONE client for the whole program. It is thread-safe: no pool, no lock, no per-thread client.
  greenrpc::Client client{host, port};
  std::atomic<int> wrong{0}, failed{0};

  std::uint64_t served_before = 0;
  try {
    served_before = client.call(calls_served);
  } catch (const greenrpc::Error& e) {
    std::printf("  FAIL cannot reach the server: %s\n", e.what());
    return false;
  }

  // 1. Blocking calls from many threads at once.
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < load.threads; ++t) {
    threads.emplace_back([&, t] {
      // An exception must not escape a std::thread (std::terminate): catch per thread.
      try {
        for (int i = 0; i < load.calls_per_thread; ++i) {
          std::int64_t a = t + 1, b = i;
          if (client.call(multiply, a, b) != a * b) ++wrong;
        }
      } catch (const greenrpc::Error& e) {
        std::printf("  thread %d: call failed: %s\n", t, e.what());
        ++failed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto threaded = Clock::now() - start;
  std::size_t threaded_calls = static_cast<std::size_t>(load.threads) * load.calls_per_thread;
  std::printf("  %d threads x %d blocking calls: %zu calls in %.0f ms, %.0f calls/s\n", load.threads,
              load.calls_per_thread, threaded_calls, std::chrono::duration<double, std::milli>(threaded).count(),
              per_second(threaded_calls, threaded));

  // 2. Fan-out from one thread: send every call first, then wait for each reply. Nothing waits
  //    for a round trip between sends, so one thread keeps the connection's pipeline full.
  start = Clock::now();
  try {
    std::vector<greenrpc::Future<std::int64_t>> futures;
    futures.reserve(static_cast<std::size_t>(load.fan_out));
    for (int i = 0; i < load.fan_out; ++i) futures.push_back(client.call_async(multiply, i, 3));
    for (int i = 0; i < load.fan_out; ++i)
      if (futures[static_cast<std::size_t>(i)].get() != std::int64_t{i} * 3) ++wrong;  // get(): once per future
  } catch (const greenrpc::Error& e) {
    std::printf("  fan-out: call failed: %s\n", e.what());
    ++failed;
  }
  auto fanned = Clock::now() - start;
  std::printf("  fan-out of %d call_async()s: %.0f ms, %.0f calls/s\n", load.fan_out,
              std::chrono::duration<double, std::milli>(fanned).count(),
              per_second(static_cast<std::size_t>(load.fan_out), fanned));

  // 3. Check: every result right, and the server saw every call exactly once.
  std::uint64_t served = 0;
  try {
    served = client.call(calls_served) - served_before;
  } catch (const greenrpc::Error& e) {
    std::printf("  calls_served failed: %s\n", e.what());
    ++failed;
  }
  std::uint64_t expected = threaded_calls + static_cast<std::uint64_t>(load.fan_out);
  std::printf("  wrong results: %d, failed threads/phases: %d, served %llu of %llu calls\n", wrong.load(),
              failed.load(), static_cast<unsigned long long>(served), static_cast<unsigned long long>(expected));
  return wrong == 0 && failed == 0 && served == expected;
}
