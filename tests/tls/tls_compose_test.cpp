// TLS composed with the rest of greenrpc, end to end on 127.0.0.1: message signing, deadlines
// and pipelining over one TLS connection; payloads of megabytes both ways (many TLS records per
// call); and the client's resend rules across a server restart, over TLS.
//
// Each test says in a comment what breaking it takes.
#include <gtest/gtest.h>

#include "tls_test_support.hpp"

using namespace tls_test;
using test_support::start_on_port;

namespace {


greenrpc::ClientOptions patient_tls_client() {
  auto o = tls_client();
  o.connect_retries = 100;
  o.retry_backoff = 10ms;
  o.retry_backoff_max = 50ms;
  o.connect_timeout = 1s;
  return o;
}

// A's and B's app: the test commands, plus `slow` (300 ms, flags its start) and `block_worker`
// (holds the worker's thread, so that a pipeline sent meanwhile is read in one go afterwards).
struct HandoverApp {
  greenrpc::App app;
  test_app::Counters counters;
  std::atomic<int> slow_started{0};
  std::atomic<bool> blocking{false};
  HandoverApp() {
    install_tls_commands(app, counters);
    app.command("slow", [this] {
      ++slow_started;
      greenrpc::sleep_for(300ms);
      return 300;
    });
    app.command("block_worker", [this] {
      blocking = true;
      std::this_thread::sleep_for(200ms);
      return 1;
    });
  }
};

greenrpc::ServerOptions handover_options() {
  auto o = tls_server();
  o.grace_period = 2s;
  o.stop_timeout = 1s;
  return o;
}

}  // namespace

// ---- 7. signing, deadlines, pipelining, large payloads over TLS ---------------------------------

// 500 signed calls, each with a deadline in its envelope, pipelined at once over one TLS
// connection; a deadline that passes; a client signing with another secret.
// Breaks when: TLS's buffering reorders, splits or loses pipelined frames (a wrong sum or a
// signature mismatch), the deadline is not honoured over TLS, or an unsigned/wrongly signed
// request is served.
TEST_F(TlsServerTest, SignedPipelinedCallsWithDeadlinesOverTls) {
  auto o = tls_server();
  o.auth_secret = "s3cret";
  o.workers = 2;
  start(o);
  auto opts = tls_client();
  opts.auth_secret = "s3cret";
  opts.timeout = 10s;  // every request carries a deadline
  auto c = client(opts);
  constexpr int kCalls = 500;
  std::vector<greenrpc::Future<int>> calls;
  for (int i = 0; i < kCalls; ++i) calls.push_back(c.call_async(greenrpc::CallOptions{}, test_app::add, i, NumberInput{i}));
  int right = 0;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(calls[i].wait_for(10s)) << "call " << i << " hung";
    right += outcome_of([&] {
               if (calls[i].get() != 2 * i) throw std::runtime_error("wrong sum");
             }) == "ok";
  }
  EXPECT_EQ(right, kCalls);
  EXPECT_EQ(counters.calls.load(), kCalls);

  const auto t0 = Clock::now();
  greenrpc::CallOptions short_deadline;
  short_deadline.timeout = 150ms;
  EXPECT_EQ(outcome_of([&] { c.call(short_deadline, test_app::sleep_ms, 2000); }), "TimeoutError");
  EXPECT_LT(ms_since(t0), 1500) << "the deadline did not end the call";
  EXPECT_EQ(c.call(test_app::add, 1, NumberInput{2}), 3) << "the TLS connection after a call's deadline passed";

  auto wrong = tls_client();
  wrong.auth_secret = "not the secret";
  auto impostor = client(wrong);
  const std::string got = outcome_of([&] { impostor.call(test_app::add, 1, NumberInput{1}); });
  EXPECT_NE(got, "ok");
  EXPECT_EQ(counters.calls.load(), kCalls + 1) << "a request signed with another secret ran: " << got;
}

// Three 5 MB echoes at once (each about 320 TLS records each way) and an add pipelined behind.
// Breaks when: a large write is cut at a record boundary and not continued, bytes are dropped or
// reordered between records (the echo differs), or the small call behind is answered out of turn.
TEST_F(TlsServerTest, FiveMegabyteEchoesBothWaysOverTls) {
  start(tls_server());
  auto c = client(tls_client());
  constexpr std::size_t kSize = 5u << 20;
  std::vector<std::string> payloads;
  for (int p = 0; p < 3; ++p) {
    std::string s(kSize, '\0');
    for (std::size_t i = 0; i < kSize; ++i) s[i] = static_cast<char>('!' + (i * (7 + p) + i / 4093) % 90);
    payloads.push_back(std::move(s));
  }
  std::vector<greenrpc::Future<std::string>> echoes;
  for (const auto& p : payloads) echoes.push_back(c.call_async<std::string>("echo", p));
  auto small = c.call_async(greenrpc::CallOptions{}, test_app::add, 20, NumberInput{22});
  for (int p = 0; p < 3; ++p) {
    ASSERT_TRUE(echoes[p].wait_for(20s)) << "echo " << p << " hung";
    std::string back;
    EXPECT_EQ(outcome_of([&] { back = echoes[p].get(); }), "ok");
    EXPECT_EQ(back.size(), kSize) << "echo " << p;
    EXPECT_TRUE(back == payloads[p]) << "echo " << p << " came back altered";
  }
  ASSERT_TRUE(small.wait_for(5s));
  EXPECT_EQ(small.get(), 42);
}

// ---- 8. the resend rules over TLS ----------------------------------------------------------------

// A slow call runs on A with 5 adds pipelined behind it over TLS; A stops (answering the adds
// SHUTTING_DOWN) and B, also TLS, starts on the same port. The client resends the adds to B over
// a new TLS connection.
// Breaks when: a SHUTTING_DOWN reply over TLS is not resent (an add fails), an add is lost with
// the TLS connection or runs twice, or the reconnect's handshake is not retried while the port
// changes hands.
TEST(TlsHandover, QueuedCallsAreResentToARestartedTlsServerExactlyOnce) {
  HandoverApp a_app, b_app;
  greenrpc::Server a = a_app.app.start_background(handover_options());
  const std::uint16_t port = a.port();
  greenrpc::Client blocker("127.0.0.1", port, tls_client());
  greenrpc::Client client("127.0.0.1", port, patient_tls_client());
  ASSERT_EQ(client.ping(), "PONG");
  // While A's worker thread is held, the whole pipeline reaches A; A then reads it at once: the
  // slow call runs, the adds wait in A's buffer behind it.
  auto held = blocker.call_async<int>("block_worker");
  ASSERT_TRUE(wait_until([&] { return a_app.blocking.load(); }, 5s));
  auto slow = client.call_async<int>("slow");
  std::vector<greenrpc::Future<int>> adds;
  for (int i = 0; i < 5; ++i) adds.push_back(client.call_async(greenrpc::CallOptions{}, test_app::add, i, NumberInput{i * 10}));
  ASSERT_EQ(held.get(), 1);
  ASSERT_TRUE(wait_until([&] { return a_app.slow_started.load() == 1; }, 5s));
  std::this_thread::sleep_for(50ms);  // the adds are in A's buffer, behind the running call
  a.request_stop();
  greenrpc::Server b = start_on_port(b_app.app, port, handover_options());
  EXPECT_EQ(outcome_of([&] { EXPECT_EQ(slow.get(), 300); }), "ok") << "the running call should finish on A";
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(adds[i].wait_for(5s)) << "add " << i << " hung";
    EXPECT_EQ(outcome_of([&] { EXPECT_EQ(adds[i].get(), i * 11); }), "ok") << "add " << i;
  }
  EXPECT_EQ(a_app.counters.calls.load(), 0) << "an add ran on A although it stopped before starting it";
  EXPECT_EQ(b_app.counters.calls.load(), 5) << "adds lost or run twice";
  EXPECT_EQ(client.call<std::string>("tls_version"), "TLSv1.3") << "the resent calls' connection to B";
  a.stop();
  b.stop();
}

// The server is down when the call is made and back 200 ms later: refused connects are retried
// (a ConnectError, unlike a TlsError), and the call completes over the new server's TLS.
// Breaks when: a refused TCP connect under TLS is treated as final, or the call runs twice.
TEST(TlsHandover, CallDuringARestartGapReconnectsOverTls) {
  HandoverApp a_app, b_app;
  greenrpc::Server a = a_app.app.start_background(handover_options());
  const std::uint16_t port = a.port();
  greenrpc::Client client("127.0.0.1", port, patient_tls_client());
  ASSERT_EQ(client.call(test_app::add, 1, NumberInput{1}), 2);
  a.stop();
  std::this_thread::sleep_for(100ms);  // the client has seen its connection close
  greenrpc::Server b;
  std::thread restarter([&] {
    std::this_thread::sleep_for(200ms);
    b = start_on_port(b_app.app, port, handover_options());
  });
  const auto t0 = Clock::now();
  EXPECT_EQ(outcome_of([&] { EXPECT_EQ(client.call(test_app::add, 2, NumberInput{2}), 4); }), "ok");
  EXPECT_GE(ms_since(t0), 150) << "it cannot have succeeded before the server was back";
  restarter.join();
  EXPECT_EQ(b_app.counters.calls.load(), 1);
  b.stop();
}
