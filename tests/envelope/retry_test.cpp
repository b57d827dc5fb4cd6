// Connection retries: reconnecting with back-off, resending idempotent calls whose connection
// died, never resending the others. All with signing on (each new connection gets a new nonce,
// so a resent request must be signed again).
#include <gtest/gtest.h>

#include <future>

#include "envelope_support.hpp"

using namespace env_test;

namespace {

template <class Rep, class Period>
long long ms(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

class RetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    install(app, counters);
    server = app.start_background(server_options("s3cret"));
    port = server.port();
  }
  void TearDown() override {
    if (restarter.joinable()) restarter.join();
    server.stop();
  }
  // On another thread: stop the server (with `grace`), wait `gap`, start it on the same port.
  void restart_later(std::chrono::milliseconds before, std::chrono::milliseconds grace, std::chrono::milliseconds gap) {
    restarter = std::thread([=, this] {
      std::this_thread::sleep_for(before);
      server.stop(grace);
      stopped_at = Clock::now();
      std::this_thread::sleep_for(gap);
      auto o = server_options("s3cret");
      o.port = port;
      server = app.start_background(o);
      restarted = true;
    });
  }
  greenrpc::App app;
  Counters counters;
  greenrpc::Server server;
  std::uint16_t port = 0;
  std::thread restarter;
  std::atomic<bool> restarted{false};
  Clock::time_point stopped_at;
};

}  // namespace

TEST_F(RetryTest, CallDuringARestartGapSucceeds) {
  greenrpc::Client client("127.0.0.1", port, client_options());
  EXPECT_EQ(client.call(add, 1, NumberInput{1}), 2);
  server.stop();
  std::this_thread::sleep_for(100ms);  // the client has seen its connection close
  restart_later(0ms, 0ms, 200ms);      // the server is back ~200 ms from now
  auto t0 = Clock::now();
  std::string got = outcome([&] { EXPECT_EQ(client.call(add, 2, NumberInput{2}), 4); });
  EXPECT_EQ(got, "") << "a call issued while the server was down should wait through the retries";
  EXPECT_GE(Clock::now() - t0, 180ms) << "it cannot have succeeded before the server was back";
  restarter.join();
  EXPECT_EQ(counters.add.load(), 2);
}

TEST_F(RetryTest, IdempotentCallCutMidFlightIsResentAndSucceeds) {
  greenrpc::Client client("127.0.0.1", port, client_options());
  auto pending = client.call_async(greenrpc::CallOptions{}, slow_idem, 400);
  restart_later(100ms, 50ms, 0ms);  // cut while the handler sleeps, then back at once
  std::string got = outcome([&] { EXPECT_EQ(pending.get(), 400); });
  EXPECT_EQ(got, "");
  restarter.join();
  EXPECT_EQ(counters.slow.load(), 2) << "the idempotent call should have run again on the new connection";
}

TEST_F(RetryTest, ResendOfAPossiblyRunCallBacksOffFirst) {
  // The server may have run the call (it died with the call in flight): the resend waits a
  // jittered retry_backoff (here 0.5-1.5 x 400 ms) so a server that dies on a request is not hit
  // again at once. The server is back 150 ms after the cut's start, so without the back-off the
  // reply comes at about 100 + 50 + 400 = 550 ms.
  auto o = client_options();
  o.retry_backoff = 400ms;
  o.retry_backoff_max = 400ms;
  greenrpc::Client client("127.0.0.1", port, o);
  auto t0 = Clock::now();
  auto pending = client.call_async(greenrpc::CallOptions{}, slow_idem, 400);
  restart_later(100ms, 50ms, 0ms);
  std::string got = outcome([&] { EXPECT_EQ(pending.get(), 400); });
  EXPECT_EQ(got, "");
  auto took = Clock::now() - t0;
  restarter.join();
  EXPECT_EQ(counters.slow.load(), 2);
  EXPECT_GE(took, 100ms + 200ms + 400ms) << "resent without backing off: " << ms(took) << " ms";
}

TEST_F(RetryTest, ResendBackOffIsBoundedByTheCallsDeadline) {
  // The back-off before a resend ends when the call it is for gives up: a call made after that
  // goes out at once instead of waiting out the rest of a long back-off (2.5-7.5 s here).
  auto o = client_options();
  o.retry_backoff = 5000ms;
  o.retry_backoff_max = 5000ms;
  greenrpc::Client client("127.0.0.1", port, o);
  auto pending = client.call_async(greenrpc::CallOptions{.timeout = 800ms}, slow_idem, 300);
  restart_later(100ms, 0ms, 0ms);  // cut mid-call; the server is back at once
  EXPECT_THROW(pending.get(), greenrpc::TimeoutError) << "the resend waits out the back-off";
  restarter.join();
  auto t0 = Clock::now();
  EXPECT_EQ(client.call(greenrpc::CallOptions{.timeout = 5000ms}, add, 2, NumberInput{2}), 4);
  EXPECT_LT(Clock::now() - t0, 700ms) << "the back-off outlived the only call it was for: " << ms(Clock::now() - t0)
                                      << " ms";
}

TEST_F(RetryTest, CallOptionsIdempotentAlsoAllowsTheResend) {
  greenrpc::Client client("127.0.0.1", port, client_options());
  greenrpc::CallOptions o;
  o.idempotent = true;
  auto pending = client.call_async<int>(o, "slow_once", 400);  // by name, idempotent per call
  restart_later(100ms, 50ms, 0ms);
  std::string got = outcome([&] { EXPECT_EQ(pending.get(), 400); });
  EXPECT_EQ(got, "");
  restarter.join();
  EXPECT_EQ(counters.slow.load(), 2);
}

TEST_F(RetryTest, NonIdempotentCallCutMidFlightIsLostNotResent) {
  greenrpc::Client client("127.0.0.1", port, client_options());
  auto pending = client.call_async(greenrpc::CallOptions{}, slow_once, 400);
  restart_later(100ms, 50ms, 0ms);
  std::string got = outcome([&] { pending.get(); });
  EXPECT_TRUE(starts_with(got, "ConnectionLostError")) << got;
  restarter.join();
  std::this_thread::sleep_for(300ms);  // a late resend would show up here
  EXPECT_EQ(counters.slow.load(), 1) << "a non-idempotent call ran more than once";
  // The client itself recovers for later calls.
  EXPECT_EQ(client.call(add, 1, NumberInput{1}), 2);
}

TEST_F(RetryTest, ConnectErrorAfterAllAttemptsNamesTheEndpoint) {
  server.stop();
  for (std::size_t retries : {std::size_t{1}, std::size_t{4}}) {
    SCOPED_TRACE("connect_retries=" + std::to_string(retries));
    auto o = client_options();
    o.connect_retries = retries;
    o.retry_backoff = 40ms;
    greenrpc::Client client("127.0.0.1", port, o);
    auto t0 = Clock::now();
    try {
      client.call(add, 1, NumberInput{1});
      ADD_FAILURE() << "no exception";
    } catch (const greenrpc::ConnectError& e) {
      std::string what = e.what();
      std::cout << "[ connect_retries=" << retries << " after " << ms(Clock::now() - t0) << " ms: " << what << " ]\n";
      EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
      EXPECT_NE(what.find("attempt"), std::string::npos) << what;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a ConnectError: " << e.what();
    }
    auto took = Clock::now() - t0;
    // Growing back-off from 40 ms: with 4 attempts at least three pauses (40+80+160, jittered).
    if (retries == 4) {
      EXPECT_GE(took, 120ms) << ms(took);
    } else {
      EXPECT_LT(took, 500ms) << ms(took);
    }
  }
}

TEST_F(RetryTest, DefaultConnectRetriesIsFive) {
  greenrpc::ClientOptions o;
  EXPECT_EQ(o.connect_retries, 5u);
  EXPECT_EQ(o.timeout, 0ms);
  greenrpc::CallOptions c;
  EXPECT_FALSE(c.idempotent);
  EXPECT_TRUE(add_idem.idempotent());
  EXPECT_FALSE(add.idempotent());
}

TEST_F(RetryTest, BackOffEndsWhenEveryWaitingCallHasGivenUp) {
  // Reconnect back-off is bounded by the waiting calls' deadlines: once the only caller has
  // timed out, the client stops sleeping between attempts, so a later call connects at once
  // instead of waiting out a long back-off.
  server.stop();
  auto o = client_options();
  o.connect_retries = 10;
  o.retry_backoff = 2000ms;  // 1-3 s per pause with jitter
  o.retry_backoff_max = 2000ms;
  greenrpc::Client client("127.0.0.1", port, o);
  EXPECT_THROW(client.call(greenrpc::CallOptions{.timeout = 100ms}, add, 1, NumberInput{1}), greenrpc::TimeoutError);
  auto opts = server_options("s3cret");
  opts.port = port;
  server = app.start_background(opts);
  std::this_thread::sleep_for(100ms);  // the abandoned attempt has ended by now
  auto t0 = Clock::now();
  EXPECT_EQ(client.call(greenrpc::CallOptions{.timeout = 5000ms}, add, 2, NumberInput{2}), 4);
  EXPECT_LT(Clock::now() - t0, 700ms) << "the client slept out a back-off nobody was waiting for: "
                                      << ms(Clock::now() - t0) << " ms";
}
