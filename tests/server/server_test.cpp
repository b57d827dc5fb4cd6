// The server in-process: green threads proven, lifecycle, limits, pipelining, errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "../support/loopback.hpp"
#include "../support/test_app.hpp"

using namespace std::chrono_literals;
using greenrpc::Clock;
using test_app::NumberInput;

namespace {

using test_support::RawSocket;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_app::install(app, counters);
    server = app.start_background(test_app::local_options());
  }
  greenrpc::App app;
  test_app::Counters counters;
  greenrpc::Server server;
};

}  // namespace

TEST_F(ServerTest, StartsInBackgroundOnAnAskedForFreePort) {
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.port(), 0);
  greenrpc::Client client("127.0.0.1", server.port());
  EXPECT_EQ(client.call(test_app::add, 1, NumberInput{2}), 3);
  server.stop();
  EXPECT_FALSE(server.running());
}

TEST_F(ServerTest, ThousandConcurrentSleepingCallsFinishTogetherOnOneWorker) {
  test_app::raise_fd_limit();
  greenrpc::ClientOptions opts;
  opts.connections = 1000;  // 1,000 server connections, one fiber each, all on ONE worker thread
  greenrpc::Client client("127.0.0.1", server.port(), opts);
  {  // open all 1,000 connections first (one call each), so the timing below is about the server
    std::vector<greenrpc::Future<int>> warm;
    for (int i = 0; i < 1000; ++i) warm.push_back(client.call_async(greenrpc::CallOptions{}, test_app::sleep_ms, 0));
    for (auto& f : warm) EXPECT_EQ(f.get(), 0);
  }
  auto start = Clock::now();
  std::vector<greenrpc::Future<int>> calls;
  for (int i = 0; i < 1000; ++i) calls.push_back(client.call_async(greenrpc::CallOptions{}, test_app::sleep_ms, 200));
  for (auto& f : calls) EXPECT_EQ(f.get(), 200);
  auto elapsed = Clock::now() - start;
  // Serially this is 200 s; with green threads it is one sleep plus connection setup.
  EXPECT_LT(elapsed, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  EXPECT_GE(server.connections(), 1000u);
}

TEST_F(ServerTest, RunBlockingInOneHandlerDoesNotDelayOthers) {
  greenrpc::Client slow("127.0.0.1", server.port());
  greenrpc::Client fast("127.0.0.1", server.port());
  auto pending = slow.call_async<int>("blocking_sleep_ms", 800);
  std::this_thread::sleep_for(50ms);  // the blocking call is now parked in run_blocking
  auto t0 = Clock::now();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(fast.call(test_app::add, i, NumberInput{1}), i + 1);
  auto fast_elapsed = Clock::now() - t0;
  EXPECT_FALSE(pending.ready()) << "the blocking call should still be running";
  EXPECT_LT(fast_elapsed, 400ms) << "20 quick calls were held up behind run_blocking";
  EXPECT_EQ(pending.get(), 800);
}

TEST_F(ServerTest, HandlerExceptionsBecomeErrorRepliesAndTheConnectionLives) {
  greenrpc::Client client("127.0.0.1", server.port());
  try {
    client.call<int>("fail", std::string("boom"));
    FAIL() << "no exception";
  } catch (const greenrpc::RemoteError& e) {
    EXPECT_EQ(e.code(), "UNEXPECTED_ERROR");
    EXPECT_EQ(e.message(), "boom");
  }
  try {
    client.call<int>("fail_custom", std::string("no more apples"));
    FAIL() << "no exception";
  } catch (const greenrpc::RemoteError& e) {
    EXPECT_EQ(e.code(), "OUT_OF_STOCK");
    EXPECT_EQ(e.message(), "no more apples");
  }
  EXPECT_EQ(client.call(test_app::add, 2, NumberInput{2}), 4);
}

TEST_F(ServerTest, PipelinedFramesInOneWriteGetOrderedRepliesInOneRead) {
  RawSocket s(server.port());
  std::string batch, expected;
  for (int i = 0; i < 100; ++i) {
    // add(i, {"value": 1}) with i < 100: positive fixint
    batch += "*3\r\n$3\r\nadd\r\n$1\r\n";
    batch += static_cast<char>(i);
    batch += "\r\n$8\r\n\x81\xa5value\x01\r\n";
    expected += "$1\r\n";
    expected += static_cast<char>(i + 1);
    expected += "\r\n";
  }
  batch += "PING\r\n";  // an inline command in the same batch
  expected += "+PONG\r\n";
  s.send(batch);
  EXPECT_EQ(s.read_exactly(expected.size()), expected);
}

TEST_F(ServerTest, ProtocolViolationGetsAnErrorThenCloseOthersUnaffected) {
  greenrpc::Client bystander("127.0.0.1", server.port());
  RawSocket bad(server.port());
  bad.send("*1\r\n+notbulk\r\n");
  std::string reply = bad.read_exactly(1);
  EXPECT_EQ(reply.substr(0, 1), "-");
  EXPECT_TRUE(bad.closed_by_peer());
  EXPECT_EQ(bystander.call(test_app::add, 5, NumberInput{5}), 10);
}

TEST_F(ServerTest, OversizedDeclarationsAreRefusedWithoutAllocating) {
  RawSocket bad(server.port());
  bad.send("*1\r\n$999999999999\r\n");
  std::string line = bad.read_exactly(5);
  EXPECT_EQ(line.substr(0, 5), "-ERR ");
  EXPECT_TRUE(bad.closed_by_peer());
}

TEST_F(ServerTest, StopWhileClientsAreMidCallNeverHangsAClient) {
  greenrpc::Client client("127.0.0.1", server.port(), [] {
    greenrpc::ClientOptions o;
    o.connections = 8;
    o.connect_retries = 2;
    o.retry_backoff = 20ms;
    return o;
  }());
  // 4 calls pipelined on each of the 8 connections: one runs, three wait behind it.
  std::vector<greenrpc::Future<int>> calls;
  for (int i = 0; i < 32; ++i) calls.push_back(client.call_async<int>("sleep_ms", 1500));
  std::this_thread::sleep_for(100ms);
  auto t0 = Clock::now();
  server.stop(200ms);  // shorter than the handlers' sleep: running requests are cancelled
  EXPECT_LT(Clock::now() - t0, 200ms + 1s + 500ms) << "stop() exceeded grace + stop_timeout";
  int cancelled_mid_call = 0, never_ran = 0;
  for (auto& f : calls) {
    ASSERT_TRUE(f.wait_for(5s)) << "a call hung after stop()";
    try {
      f.get();
      ADD_FAILURE() << "a 1.5 s call completed within a 200 ms grace period";
    } catch (const greenrpc::ConnectionLostError& e) {
      ++cancelled_mid_call;  // CANCELLED while it ran: may have run, not idempotent, not resent
    } catch (const greenrpc::ConnectError& e) {
      ++never_ran;  // SHUTTING_DOWN: resent, but the server has no successor
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not the error of a stopped server: " << e.what();
    }
  }
  EXPECT_EQ(cancelled_mid_call, 8) << "one running request per connection";
  EXPECT_EQ(never_ran, 24) << "the queued requests never ran and were resent";
}

TEST_F(ServerTest, GracefulStopLetsInFlightRequestsFinish) {
  greenrpc::Client client("127.0.0.1", server.port());
  auto call = client.call_async<int>("sleep_ms", 300);
  std::this_thread::sleep_for(50ms);
  server.stop(3s);  // longer than the handler: it completes and its reply is delivered
  EXPECT_EQ(call.get(), 300);
}

TEST(ServerLifecycle, HooksRunAroundTheServer) {
  greenrpc::App app;
  std::vector<std::string> events;
  app.on_startup([&] { events.push_back("startup"); });
  app.on_shutdown([&] { events.push_back("shutdown"); });
  app.command("ping2", [] { return 1; });
  {
    auto server = app.start_background(test_app::local_options());
    EXPECT_EQ(events, std::vector<std::string>{"startup"});
  }  // the handle's destructor stops the server
  EXPECT_EQ(events, (std::vector<std::string>{"startup", "shutdown"}));
}

TEST(ServerLifecycle, ListenFailureIsReportedByStartBackground) {
  greenrpc::App app;
  auto first = app.start_background(test_app::local_options());
  auto opts = test_app::local_options();
  opts.port = first.port();  // taken, and no SO_REUSEPORT with one worker
  EXPECT_THROW(app.start_background(opts), greenrpc::IoError);
}

TEST(ServerLifecycle, ReservedAndDuplicateNamesAreRefusedCourtesyBuiltinsMayBeShadowed) {
  greenrpc::App app;
  for (const char* name : {"ping", "PING", "quit", "auth", "Hello"})
    EXPECT_THROW(app.command(name, [] { return 0; }), std::invalid_argument) << name;
  app.command("echo", [](std::string s) { return s + "!"; });
  EXPECT_THROW(app.command("ECHO", [](std::string s) { return s; }), std::invalid_argument);
  EXPECT_THROW(app.command("bad name", [] { return 0; }), std::invalid_argument);
  auto server = app.start_background(test_app::local_options());
  greenrpc::Client client("127.0.0.1", server.port());
  EXPECT_EQ(client.call<std::string>("echo", std::string("hi")), "hi!");
  EXPECT_EQ(client.ping(), "PONG");
}

TEST(ServerLifecycle, ConnectionLimitRefusesTheExtraConnection) {
  greenrpc::App app;
  app.command("one", [] { return 1; });
  auto opts = test_app::local_options();
  opts.max_connections = 2;
  auto server = app.start_background(opts);
  RawSocket a(server.port()), b(server.port());
  a.send("PING\r\n");
  b.send("PING\r\n");
  EXPECT_EQ(a.read_exactly(7), "+PONG\r\n");
  EXPECT_EQ(b.read_exactly(7), "+PONG\r\n");
  RawSocket c(server.port());
  EXPECT_EQ(c.read_exactly(36), "-ERR max number of clients reached\r\n");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(ServerLifecycle, SeveralWorkersShareThePortAndAllServe) {
  greenrpc::App app;
  test_app::Counters counters;
  test_app::install(app, counters);
  auto server = app.start_background(test_app::local_options(2));
  std::set<unsigned> workers;
  for (int i = 0; i < 64 && workers.size() < 2; ++i) {
    greenrpc::Client client("127.0.0.1", server.port());  // a new connection each time
    workers.insert(client.call<unsigned>("worker"));
    EXPECT_EQ(client.call(test_app::add, i, NumberInput{1}), i + 1);
  }
  EXPECT_EQ(workers.size(), 2u) << "SO_REUSEPORT should spread 64 connections over both workers";
}
