// Deadlines: the envelope's "dl", DEADLINE_EXCEEDED before a handler runs, RequestContext::deadline,
// and propagation through a handler's own client calls.
#include <gtest/gtest.h>

#include <future>
#include <limits>

#include "envelope_support.hpp"

using namespace env_test;

namespace {

template <class Rep, class Period>
long long ms(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Polls `pred` for up to `limit`.
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = 3000ms) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class DeadlineTest : public ::testing::TestWithParam<bool> {
 protected:
  // Parameter: signed (auth_secret on both sides) or not.
  void SetUp() override {
    install(app, counters);
    server = app.start_background(server_options(secret()));
  }
  void TearDown() override { server.stop(); }
  std::string secret() const { return GetParam() ? "s3cret" : ""; }
  greenrpc::Client client(greenrpc::ClientOptions o) {
    o.auth_secret = secret();
    return greenrpc::Client("127.0.0.1", server.port(), std::move(o));
  }
  greenrpc::Client client() { return client(client_options()); }

  // A raw request with an envelope carrying `dl` (signed when the server signs).
  std::string request(RawSocket& s, std::optional<Signer>& signer, std::uint64_t seq, std::optional<std::uint64_t> dl,
                      const std::vector<std::string>& elements) {
    if (GetParam()) {
      if (!signer) signer.emplace("s3cret", s.nonce());
      return signer->request(seq, dl, elements);
    }
    greenrpc::envelope::Header h;
    h.deadline_ms = dl;
    std::string env;
    greenrpc::envelope::append_encoded(env, h);
    std::vector<std::string> parts{env};
    parts.insert(parts.end(), elements.begin(), elements.end());
    return frame_of(parts);
  }
  // The reply element (the tag checked when signed).
  std::string element(std::optional<Signer>& signer, std::uint64_t seq, const std::string& reply) {
    return GetParam() ? signer->open_reply(seq, reply) : reply;
  }

  greenrpc::App app;
  Counters counters;
  greenrpc::Server server;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Envelope, DeadlineTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Signed" : "Unsigned"; });

TEST_P(DeadlineTest, TimeoutThenTheNextCallOnTheSameClientGetsItsOwnReply) {
  auto c = client();
  greenrpc::CallOptions quick;
  quick.timeout = 50ms;
  auto t0 = Clock::now();
  EXPECT_THROW(c.call<int>(quick, "sleep_ms", 300), greenrpc::TimeoutError);
  EXPECT_LT(Clock::now() - t0, 250ms);
  // The late reply of the first call (seq 1 when signed) arrives first and must be dropped.
  EXPECT_EQ(c.call<int>("sleep_ms", 7), 7);
  EXPECT_EQ(c.call(add, 1, NumberInput{1}), 2);
  EXPECT_EQ(c.call(add, 2, NumberInput{2}), 4);
}

TEST_P(DeadlineTest, HandlerSeesTheCallersDeadline) {
  auto c = client();
  greenrpc::CallOptions o;
  o.timeout = 500ms;
  long long left = c.call<long long>(o, "deadline_left");
  EXPECT_GT(left, 300);
  EXPECT_LE(left, 500);
  EXPECT_EQ(c.call<long long>("deadline_left"), -1) << "no timeout: the handler has no deadline";
  // The client-wide default timeout counts as the call's timeout.
  auto o2 = client_options();
  o2.timeout = 800ms;
  auto d = client(o2);
  left = d.call<long long>("deadline_left");
  EXPECT_GT(left, 600);
  EXPECT_LE(left, 800);
}

TEST_P(DeadlineTest, DeadlineZeroIsAlwaysExceededAndRunsNothing) {
  RawSocket s(server.port());
  std::optional<Signer> signer;
  std::string r = s.call(request(s, signer, 1, 0, add_elements(1, 1)));
  std::string e = element(signer, 1, r);
  EXPECT_TRUE(starts_with(e, "-DEADLINE_EXCEEDED")) << show(r);
  EXPECT_EQ(counters.any.load(), 0);
  EXPECT_EQ(element(signer, 2, s.call(request(s, signer, 2, 5000, add_elements(1, 1)))), "$1\r\n\x02\r\n");
}

// The deadline counts from when the request ARRIVED: waiting behind a slow request on the same
// connection uses it up.
TEST_P(DeadlineTest, DeadlinePassesWhileQueuedBehindASlowRequest) {
  RawSocket s(server.port());
  std::optional<Signer> signer;
  std::string batch = request(s, signer, 1, std::nullopt, {"sleep_ms", mp(300)});
  batch += request(s, signer, 2, 100, add_elements(1, 1));  // 100 ms, but 300 ms of waiting ahead
  s.send(batch);
  std::string r1 = s.read_reply(), r2 = s.read_reply();
  EXPECT_EQ(element(signer, 1, r1), std::string("$3\r\n\xcd\x01\x2c\r\n", 9)) << show(r1);  // 300
  EXPECT_TRUE(starts_with(element(signer, 2, r2), "-DEADLINE_EXCEEDED")) << show(r2);
  EXPECT_EQ(counters.add.load(), 0) << "the queued request's handler ran after its deadline had passed";
}

TEST_P(DeadlineTest, PipelinedClientCallTimesOutBehindASlowOneAndItsHandlerNeverRuns) {
  auto o = client_options();
  o.connections = 1;
  auto c = client(o);
  auto slow = c.call_async<int>("sleep_ms", 300);
  greenrpc::CallOptions quick;
  quick.timeout = 100ms;
  auto queued = c.call_async(quick, add, 1, NumberInput{1});
  EXPECT_THROW(queued.get(), greenrpc::TimeoutError);
  EXPECT_EQ(slow.get(), 300);
  EXPECT_EQ(c.call(add, 2, NumberInput{2}), 4) << "the connection is still in step";
  EXPECT_EQ(counters.add.load(), 1) << "the timed-out add ran on the server after its deadline";
}

TEST_P(DeadlineTest, HugeDeadlineMeansFarFutureNotExpired) {
  RawSocket s(server.port());
  std::optional<Signer> signer;
  std::uint64_t seq = 0;
  // 10^13 ms (317 years) already overflows a nanosecond steady_clock duration.
  for (std::uint64_t dl : {std::uint64_t{1} << 40, std::uint64_t{10'000'000'000'000}, std::uint64_t{1} << 63,
                           std::numeric_limits<std::uint64_t>::max() - 1}) {
    SCOPED_TRACE("dl=" + std::to_string(dl));
    ++seq;
    std::string r = s.call(request(s, signer, seq, dl, add_elements(1, 1)));
    EXPECT_EQ(element(signer, seq, r), "$1\r\n\x02\r\n") << show(r);
  }
}

// client (300 ms) → server A handler → its own Client with NO timeout → server B (sleeps 1 s):
// B's handler sees at most the 300 ms, and A's call to B is cut when they are used up.
TEST_P(DeadlineTest, DeadlinePropagatesThroughAHandlersClientCalls) {
  greenrpc::App back;
  std::atomic<long long> b_saw{-2};
  std::atomic<int> b_runs{0}, b_finished{0};
  std::atomic<long long> b_ran_ms{-1};
  back.command("b_sleep", [&](const greenrpc::RequestContext& ctx) {
    ++b_runs;
    b_saw = remaining_ms(ctx.deadline());
    struct Finished {  // counted however the handler ends
      std::atomic<int>& n;
      std::atomic<long long>& ran_ms;
      Clock::time_point t0 = Clock::now();
      ~Finished() {
        ran_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
        ++n;
      }
    } finished{b_finished, b_ran_ms};
    greenrpc::sleep_for(1000ms);  // ends with DeadlineExceededError once the inherited deadline passes
    return 1;
  });
  auto b_server = back.start_background(server_options(secret()));
  greenrpc::Client to_b("127.0.0.1", b_server.port(), [&] {
    auto o = client_options(secret());
    o.timeout = 0ms;
    return o;
  }());

  greenrpc::App front;
  std::atomic<long long> a_call_ms{-1};
  std::mutex mu;
  std::string a_outcome = "<not run>";
  std::atomic<bool> a_done{false};
  front.command("relay", [&](int own_timeout_ms) {
    greenrpc::CallOptions o;
    o.timeout = std::chrono::milliseconds(own_timeout_ms);
    auto t0 = Clock::now();
    std::string got = outcome([&] { to_b.call<int>(o, "b_sleep"); });
    a_call_ms = ms(Clock::now() - t0);
    {
      std::lock_guard lock(mu);
      a_outcome = got;
    }
    a_done = true;
    if (!got.empty()) throw greenrpc::CommandError("RELAY_FAILED", got);
    return 0;
  });
  auto a_server = front.start_background(server_options(secret()));
  greenrpc::Client a("127.0.0.1", a_server.port(), client_options(secret()));

  for (int own : {0, 2000}) {  // no timeout of its own / a looser one: the inherited 300 ms win
    SCOPED_TRACE("A's own timeout " + std::to_string(own) + " ms");
    // B serves one connection in order: let its previous (1 s) request finish first.
    ASSERT_TRUE(eventually([&] { return b_finished.load() == b_runs.load(); }));
    a_done = false;
    b_saw = -2;
    greenrpc::CallOptions o;
    o.timeout = 300ms;
    auto t0 = Clock::now();
    // The outer call fails either way: by its own timer, or with A's RELAY_FAILED when A's
    // inherited deadline (a little earlier than the caller's) cut the call to B first.
    std::string outer = outcome([&] { a.call<int>(o, "relay", own); });
    EXPECT_TRUE(starts_with(outer, "TimeoutError") || starts_with(outer, "DeadlineExceededError") ||
                outer.find("RELAY_FAILED") != std::string::npos)
        << outer;
    EXPECT_LT(Clock::now() - t0, 600ms);
    ASSERT_TRUE(eventually([&] { return a_done.load(); })) << "A's handler is still waiting for B";
    EXPECT_GT(b_saw.load(), 0) << "B's handler saw no deadline";
    EXPECT_LE(b_saw.load(), 300);
    EXPECT_LT(a_call_ms.load(), 600) << "A's call to B was not cut by the inherited deadline";
    ASSERT_TRUE(eventually([&] { return b_finished.load() == b_runs.load(); }));
    EXPECT_LT(b_ran_ms.load(), 600) << "B's handler was not cancelled at its next park when its deadline passed";
    std::lock_guard lock(mu);
    EXPECT_TRUE(starts_with(a_outcome, "TimeoutError") || starts_with(a_outcome, "DeadlineExceededError"))
        << a_outcome;
  }
  // A tighter timeout of its own wins over the inherited deadline.
  ASSERT_TRUE(eventually([&] { return b_finished.load() == b_runs.load(); }));
  a_done = false;
  b_saw = -2;
  greenrpc::CallOptions o;
  o.timeout = 2000ms;
  std::string outer = outcome([&] { a.call<int>(o, "relay", 100); });
  EXPECT_NE(outer.find("RELAY_FAILED"), std::string::npos) << outer;
  ASSERT_TRUE(a_done.load());
  EXPECT_GT(b_saw.load(), 0);
  EXPECT_LE(b_saw.load(), 100);
  EXPECT_LT(a_call_ms.load(), 400);
  a_server.stop();
  b_server.stop();
}

// Without signing, a deadline set to 0 in transit must come back as DeadlineExceededError (a
// TimeoutError), raised from the server's DEADLINE_EXCEEDED and not from the local timer.
TEST(DeadlineMapping, ServerDeadlineExceededRaisesDeadlineExceededError) {
  static_assert(std::is_base_of_v<greenrpc::TimeoutError, greenrpc::DeadlineExceededError>);
  greenrpc::App app;
  Counters counters;
  install(app, counters);
  auto server = app.start_background(server_options(""));
  TamperProxy proxy(server.port());
  // Rewrite the envelope of the add request: dl → 0 (unsigned, so the server cannot tell).
  proxy.arm({TamperProxy::to_server, "\r\nadd\r\n", 0, 0, [](std::string& frame) {
               auto nl = frame.find("\r\n");
               std::size_t p = nl + 2;
               auto e = frame.find("\r\n", p);
               std::size_t len = std::strtoul(frame.substr(p + 1, e - p - 1).c_str(), nullptr, 10);
               std::string env = frame.substr(e + 2, len);
               auto h = greenrpc::envelope::parse(env);
               ASSERT_TRUE(h.deadline_ms.has_value()) << "the client sent no dl: " << show(frame);
               h.deadline_ms = 0;
               std::string fresh;
               greenrpc::envelope::append_encoded(fresh, h);
               std::string rebuilt = frame.substr(0, p);
               greenrpc::protocol::append_bulk(rebuilt, fresh);
               rebuilt += frame.substr(e + 2 + len + 2);
               frame = rebuilt;
             }});
  auto o = client_options("");
  o.timeout = 5000ms;
  greenrpc::Client client("127.0.0.1", proxy.port(), o);
  auto t0 = Clock::now();
  std::string got = outcome([&] { client.call(add, 1, NumberInput{1}); });
  EXPECT_TRUE(proxy.fired());
  EXPECT_TRUE(starts_with(got, "DeadlineExceededError")) << got;
  EXPECT_LT(Clock::now() - t0, 1000ms);
  EXPECT_EQ(counters.add.load(), 0);
  server.stop();
}

// Compatibility: a client with neither a secret nor a timeout sends plain requests (no
// envelope), which servers that predate the envelope understand; with a timeout it sends dl only.
TEST(DeadlineWire, UnsignedClientSendsAnEnvelopeOnlyForADeadline) {
  greenrpc::App app;
  Counters counters;
  install(app, counters);
  auto server = app.start_background(server_options(""));
  TamperProxy proxy(server.port());
  greenrpc::Client client("127.0.0.1", proxy.port(), client_options(""));
  EXPECT_EQ(client.call(add, 1, NumberInput{1}), 2);
  greenrpc::CallOptions o;
  o.timeout = 700ms;
  EXPECT_EQ(client.call(o, add, 2, NumberInput{2}), 4);
  auto reqs = proxy.frames(TamperProxy::to_server, "\r\nadd\r\n");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].bytes, frame_of(add_elements(1, 1))) << show(reqs[0].bytes);
  EXPECT_TRUE(starts_with(reqs[1].bytes, "*4\r\n")) << show(reqs[1].bytes);
  auto nl = reqs[1].bytes.find("\r\n", 4);
  std::size_t len = std::strtoul(reqs[1].bytes.substr(5, nl - 5).c_str(), nullptr, 10);
  auto h = greenrpc::envelope::parse(reqs[1].bytes.substr(nl + 2, len));
  EXPECT_FALSE(h.tag.has_value());
  ASSERT_TRUE(h.deadline_ms.has_value());
  EXPECT_LE(*h.deadline_ms, 700u);
  EXPECT_GT(*h.deadline_ms, 500u);
  for (auto& f : proxy.frames())
    EXPECT_EQ(f.bytes.find("NONCE"), std::string::npos) << "an unsigned client needs no nonce";
  server.stop();
}
