// Clients on an EventLoopThread the application owns: no thread per client, calls from the loop's
// own fibers with no thread hop, calls from plain threads as usual, and clean ends while the loop
// keeps running.
#include <dirent.h>

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "../support/process_threads.hpp"
#include "../support/test_app.hpp"

using namespace std::chrono_literals;
using greenrpc::Clock;
using test_app::NumberInput;

namespace {

class SharedLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_app::install(app, counters);
    server = app.start_background(test_app::local_options());
  }
  // Runs fn in a fiber on `loop` and waits for it (rethrowing what it threw).
  template <class F>
  auto on_loop(greenrpc::EventLoopThread& loop, F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    loop.spawn_fiber([&task] { task(); });
    return result.get();
  }

  greenrpc::App app;
  test_app::Counters counters;
  greenrpc::Server server;
};

}  // namespace

TEST_F(SharedLoopTest, ClientsOnOneLoopStartNoThreads) {
  greenrpc::EventLoopThread loop("test-shared");
  const std::size_t before = greenrpc::test::thread_count();
  std::vector<std::unique_ptr<greenrpc::Client>> clients;
  for (int i = 0; i < 5; ++i)
    clients.push_back(std::make_unique<greenrpc::Client>("127.0.0.1", server.port(), greenrpc::ClientOptions{}, loop));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(clients[i]->call(test_app::add, i, NumberInput{1}), i + 1);  // plain thread
  EXPECT_EQ(greenrpc::test::thread_count(), before) << "a client on a shared loop started a thread of its own";
  clients.clear();
  // The loop outlives its clients and keeps working.
  EXPECT_EQ(on_loop(loop, [] { return 7; }), 7);
}

TEST_F(SharedLoopTest, FibersOfTheLoopCallWithoutBlockingIt) {
  greenrpc::EventLoopThread loop("test-shared");
  // The server runs one connection's requests in order, so one connection per caller.
  greenrpc::Client client("127.0.0.1", server.port(), greenrpc::ClientOptions{.connections = 50}, loop);
  // 50 fibers on the client's own loop, each calling a 200 ms handler: they all wait at once on
  // the one thread that also runs the connections, so the whole takes about one call, not 50.
  auto t0 = Clock::now();
  int sum = on_loop(loop, [&] {
    std::atomic<int> total{0};
    greenrpc::FiberGroup callers(loop);
    for (int i = 0; i < 50; ++i)
      callers.spawn([&] { total += client.call(test_app::sleep_ms, 200); });
    callers.join();
    return total.load();
  });
  EXPECT_EQ(sum, 50 * 200);
  EXPECT_LT(Clock::now() - t0, 2000ms);
}

TEST_F(SharedLoopTest, CallsFromPlainThreadsAndFromTheLoopMix) {
  greenrpc::EventLoopThread loop("test-shared");
  greenrpc::Client client("127.0.0.1", server.port(), greenrpc::ClientOptions{}, loop);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        if (client.call(test_app::add, t, NumberInput{i}) == t + i) ++good;
    });
  int from_loop = on_loop(loop, [&] {
    int ok = 0;
    for (int i = 0; i < 50; ++i) ok += client.call(test_app::add, i, NumberInput{i}) == 2 * i;
    return ok;
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 200);
  EXPECT_EQ(from_loop, 50);
}

TEST_F(SharedLoopTest, DestroyedFromAFiberOfItsLoopWhileCallsWait) {
  greenrpc::EventLoopThread loop("test-shared");
  auto client = std::make_unique<greenrpc::Client>("127.0.0.1", server.port(), greenrpc::ClientOptions{}, loop);
  ASSERT_EQ(client->ping(), "PONG");
  std::promise<std::string> outcome;
  loop.spawn_fiber([&] {
    try {
      client->call(test_app::sleep_ms, 1500);
      outcome.set_value("returned");
    } catch (const std::exception& e) {
      outcome.set_value(e.what());
    }
  });
  std::this_thread::sleep_for(100ms);  // the call is in flight
  auto t0 = Clock::now();
  on_loop(loop, [&] {
    client.reset();  // parks this fiber until the connection's fibers have ended
    return 0;
  });
  EXPECT_LT(Clock::now() - t0, 1000ms) << "destroying the client waited for the 1.5 s call";
  auto f = outcome.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  std::string what = f.get();
  EXPECT_NE(what, "returned");
  EXPECT_EQ(on_loop(loop, [] { return 1; }), 1) << "the loop keeps running after its client ended";
}

TEST_F(SharedLoopTest, DestroyedWhileReconnectingToADeadServer) {
  greenrpc::EventLoopThread loop("test-shared");
  const std::uint16_t port = server.port();
  server.stop();
  greenrpc::ClientOptions o;
  o.connect_retries = 50;
  o.retry_backoff = 3000ms;  // pauses of 1.5-4.5 s between attempts
  o.retry_backoff_max = 3000ms;
  auto client = std::make_unique<greenrpc::Client>("127.0.0.1", port, o, loop);
  auto pending = client->call_async(test_app::add, 1, NumberInput{1});
  std::this_thread::sleep_for(150ms);  // in the back-off after the first refused attempt
  auto t0 = Clock::now();
  client.reset();
  EXPECT_LT(Clock::now() - t0, 1000ms) << "the end of the client waited out a back-off pause";
  EXPECT_THROW(pending.get(), greenrpc::Error);
}
