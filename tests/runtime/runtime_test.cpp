// The runtime: fibers over epoll, timers, cross-thread wakes, run_blocking, fd waits.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <future>
#include <thread>

#include "../support/fiber_harness.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/net/tcp_listener.hpp"
#include "greenrpc/net/tcp_stream.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/fiber_group.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/run_blocking.hpp"

using namespace greenrpc;
using greenrpc::test::run_in_fiber;
using namespace std::chrono_literals;

namespace {

}  // namespace

TEST(Runtime, ThousandSleepingFibersShareOneThread) {
  run_in_fiber([] {
    std::atomic<int> finished{0};
    auto all_done = OneShotEvent::create();
    auto start = Clock::now();
    for (int i = 0; i < 1000; ++i) {
      spawn([&] {
        sleep_for(200ms);
        if (++finished == 1000) all_done->set();
      });
    }
    ASSERT_TRUE(all_done->wait(Deadline::after(10s)));
    auto elapsed = Clock::now() - start;
    EXPECT_EQ(finished, 1000);
    // Serial sleeps would take 200 s; concurrent ones take one sleep plus scheduling overhead.
    EXPECT_LT(elapsed, 2s);
    EXPECT_GE(elapsed, 200ms);
  });
}

TEST(Runtime, RunBlockingParksOnlyTheCallingFiber) {
  run_in_fiber([] {
    std::atomic<int> ticks{0};
    bool stop = false;
    auto ticker_done = OneShotEvent::create();
    spawn([&] {  // uses this frame: waited for below, before the frame goes
      while (!stop) {
        sleep_for(5ms);
        ++ticks;
      }
      ticker_done->set();
    });
    int value = run_blocking([] {
      std::this_thread::sleep_for(300ms);  // a truly blocking call
      return 42;
    });
    stop = true;
    ASSERT_TRUE(ticker_done->wait(Deadline::after(1s)));
    EXPECT_EQ(value, 42);
    EXPECT_GT(ticks.load(), 10) << "the other fiber must keep running while one waits in run_blocking";
  });
}

TEST(Runtime, RunBlockingRethrowsAndTimesOut) {
  run_in_fiber([] {
    EXPECT_THROW(run_blocking([]() -> int { throw std::runtime_error("db down"); }), std::runtime_error);
    EXPECT_THROW(run_blocking([] { std::this_thread::sleep_for(300ms); }, Deadline::after(20ms)), TimeoutError);
  });
}

TEST(Runtime, FiberMutexAndConditionVariableDoNotBlockTheThread) {
  run_in_fiber([] {
    boost::fibers::mutex m;
    boost::fibers::condition_variable cv;
    int stage = 0;
    spawn([&] {
      std::unique_lock lock(m);
      stage = 1;
      cv.notify_all();
      cv.wait(lock, [&] { return stage == 2; });
      stage = 3;
      cv.notify_all();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return stage == 1; });
    stage = 2;
    cv.notify_all();
    cv.wait(lock, [&] { return stage == 3; });
    EXPECT_EQ(stage, 3);
  });
}

TEST(Runtime, OneShotEventWakesAFiberFromAnotherThread) {
  run_in_fiber([] {
    auto ev = OneShotEvent::create();
    std::thread setter([ev] {
      std::this_thread::sleep_for(50ms);
      ev->set();
    });
    EXPECT_TRUE(ev->wait(Deadline::after(5s)));
    setter.join();
    auto never = OneShotEvent::create();
    auto t0 = Clock::now();
    EXPECT_FALSE(never->wait(Deadline::after(50ms)));
    EXPECT_GE(Clock::now() - t0, 50ms);
  });
}

TEST(Runtime, PostedTasksRunOnTheLoopThreadInOrder) {
  EventLoopThread loop("test");
  std::vector<int> seen;
  std::promise<std::thread::id> where;
  for (int i = 0; i < 100; ++i) loop.post([&seen, i] { seen.push_back(i); });
  loop.post([&] { where.set_value(std::this_thread::get_id()); });
  auto id = where.get_future().get();
  EXPECT_NE(id, std::this_thread::get_id());
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST(Runtime, TcpReadTimesOutThenCancelWakesTheReader) {
  run_in_fiber([] {
    TcpListener listener(ListenOptions{"127.0.0.1", 0});
    auto client = TcpStream::connect("127.0.0.1", listener.port(), Deadline::after(2s));
    auto server_side = listener.accept(Deadline::after(2s));
    ASSERT_TRUE(server_side);
    char buf[16];
    EXPECT_THROW(server_side->read_some(buf, Deadline::after(30ms)), TimeoutError);
    // A reader parked without deadline is woken by cancel() from another fiber.
    bool cancelled = false;
    auto done = OneShotEvent::create();
    spawn([&] {
      try {
        server_side->read_some(buf, Deadline::never());
      } catch (const CancelledError&) {
        cancelled = true;
      }
      done->set();
    });
    sleep_for(20ms);
    server_side->cancel();
    ASSERT_TRUE(done->wait(Deadline::after(2s)));
    EXPECT_TRUE(cancelled);
  });
}

TEST(Runtime, TcpEchoWithLargeWritesAndPartialReads) {
  run_in_fiber([] {
    TcpListener listener(ListenOptions{"127.0.0.1", 0});
    const std::string payload(4 << 20, 'x');  // larger than socket buffers: forces EAGAIN on write
    spawn([&] {
      auto s = listener.accept(Deadline::after(5s));
      std::string_view parts[] = {std::string_view(payload).substr(0, 1000), std::string_view(payload).substr(1000)};
      s->write_all(parts, Deadline::after(10s));
      s->shutdown_write();
      char sink[1];
      s->read_some(sink, Deadline::after(10s));  // wait for the peer to finish
    });
    auto c = TcpStream::connect("127.0.0.1", listener.port(), Deadline::after(2s));
    std::string got;
    char buf[65536];
    for (;;) {
      std::size_t n = c->read_some(buf, Deadline::after(10s));
      if (n == 0) break;
      got.append(buf, n);
    }
    EXPECT_EQ(got.size(), payload.size());
    EXPECT_EQ(got, payload);
  });
}

TEST(Runtime, ConnectRefusedRaisesConnectError) {
  run_in_fiber([] {
    std::uint16_t port;
    {
      TcpListener l(ListenOptions{"127.0.0.1", 0});
      port = l.port();
    }
    try {
      TcpStream::connect("127.0.0.1", port, Deadline::after(2s));
      FAIL() << "connect to a closed port succeeded";
    } catch (const ConnectError& e) {
      EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
    }
  });
}

TEST(Runtime, CrossThreadPostsAreNeverLostWhileTheLoopSleeps) {
  // Regression: a wake-up racing with the drain of the eventfd used to be lost for good, and
  // the loop then slept in epoll_wait with tasks queued. Tight posting loops hit the race
  // window; the pauses afterwards let the loop go idle, which is when a lost wake shows.
  EventLoopThread loop("test");
  std::atomic<int> ran{0};
  constexpr int kThreads = 2, kTight = 200'000, kIdle = 200;
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kTight; ++i) loop.post([&] { ++ran; });
      for (int i = 0; i < kIdle; ++i) {
        loop.post([&] { ++ran; });
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  for (auto& p : posters) p.join();
  const int total = kThreads * (kTight + kIdle);
  auto deadline = Clock::now() + 5s;
  while (ran.load() < total && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(ran.load(), total) << "posted tasks were stranded: a wake-up was lost";
}

TEST(Runtime, FiberGroupJoinWaitsForItsFibersAndServesSeveralJoinersAtOnce) {
  EventLoopThread loop("test");
  FiberGroup group(loop);
  std::atomic<int> finished{0};
  for (int i = 0; i < 3; ++i)
    group.spawn([&] {
      sleep_for(150ms);
      ++finished;
    });
  // Two plain threads and one fiber of the loop join at once; each must return, and only after
  // every fiber of the group has.
  std::vector<std::future<int>> joins;
  for (int t = 0; t < 2; ++t)
    joins.push_back(std::async(std::launch::async, [&] {
      group.join();
      return finished.load();
    }));
  std::promise<int> from_fiber;
  loop.spawn_fiber([&] {
    group.join();
    from_fiber.set_value(finished.load());
  });
  joins.push_back(from_fiber.get_future());
  for (auto& j : joins) {
    ASSERT_EQ(j.wait_for(3s), std::future_status::ready) << "a joiner was never woken";
    EXPECT_EQ(j.get(), 3);
  }
}
