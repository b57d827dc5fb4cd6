// Logging: records with key=value fields reach a pluggable sink; the default sink's line; level
// filtering; rate-limited lines; set_log_sink while other threads log; and, through a real server
// and client with a capturing sink, the per-connection debug lines and the absence of secrets.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <greenrpc/envelope/envelope.hpp>
#include <greenrpc/greenrpc.hpp>
#include <greenrpc/runtime/log.hpp>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "../envelope/envelope_support.hpp"
#include "../support/loopback.hpp"
#include "../support/server_fixture.hpp"
#include "../support/test_certificates.hpp"

namespace {

using namespace std::chrono_literals;
using greenrpc::LogField;
using greenrpc::LogLevel;
using greenrpc::LogRecord;
using test_support::RawSocket;
using test_support::wait_until;

// A record copied out of the sink call.
struct Captured {
  LogLevel level = LogLevel::off;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string thread;
  std::uint64_t thread_id = 0;

  std::optional<std::string> field(std::string_view key) const {
    for (const auto& [k, v] : fields)
      if (k == key) return v;
    return std::nullopt;
  }
  std::string text() const {  // everything a sink could write
    std::string out = message;
    for (const auto& [k, v] : fields) out += " " + k + "=" + v;
    return out;
  }
};

// Installs a sink that keeps every record; restores the default sink when destroyed.
class Capture {
 public:
  Capture() {
    greenrpc::set_log_sink([this](const LogRecord& r) {
      Captured c{r.level, std::string(r.message), {}, std::string(r.thread), r.thread_id};
      for (const LogField& f : r.fields) c.fields.emplace_back(std::string(f.key), f.value);
      std::lock_guard lock(mutex_);
      records_.push_back(std::move(c));
    });
  }
  ~Capture() { greenrpc::set_log_sink(nullptr); }
  std::vector<Captured> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::vector<Captured> with_message(std::string_view message) const {
    std::vector<Captured> out;
    for (auto& r : records())
      if (r.message == message) out.push_back(r);
    return out;
  }
  // The record with `message` whose field `key` is `value`, if any.
  std::optional<Captured> find(std::string_view message, std::string_view key, std::string_view value) const {
    for (auto& r : with_message(message))
      if (r.field(key) == value) return r;
    return std::nullopt;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    records_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Captured> records_;
};

// Points fd 2 at a pipe (or /dev/null) for its lifetime; text() returns what was written.
class StderrRedirect {
 public:
  explicit StderrRedirect(bool discard = false) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    if (discard) {
      int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      ::dup2(null, 2);
      ::close(null);
    } else {
      if (::pipe2(pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
      ::fcntl(pipe_[0], F_SETFL, O_NONBLOCK);
      ::dup2(pipe_[1], 2);
    }
  }
  ~StderrRedirect() {
    restore();
    if (pipe_[0] >= 0) ::close(pipe_[0]);
    if (pipe_[1] >= 0) ::close(pipe_[1]);
  }
  std::string text() {
    restore();
    std::string out;
    char buf[4096];
    for (ssize_t n; pipe_[0] >= 0 && (n = ::read(pipe_[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  int saved_ = -1;
  int pipe_[2] = {-1, -1};
};

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_level_ = greenrpc::log_level(); }
  void TearDown() override {
    greenrpc::set_log_sink(nullptr);
    greenrpc::set_log_level(saved_level_);
  }
  LogLevel saved_level_ = LogLevel::warn;
};

// ---- the API -----------------------------------------------------------------------------------

// Breaks when: fields are dropped or mangled on the way to the sink, or a record lacks its level,
// time or thread.
TEST_F(LogTest, SinkReceivesRecordsWithFields) {
  greenrpc::set_log_level(LogLevel::debug);
  Capture cap;
  const auto before = std::chrono::system_clock::now();
  const std::string peer = "127.0.0.1:4242";
  const std::string_view command = "add";
  GREENRPC_LOG_FIELDS(info, "request",
                      {{"peer", peer}, {"command", command}, {"ms", 12}, {"ok", true}, {"ratio", 0.5}, {"note", "a b"}});
  GREENRPC_LOG(warn, std::string("plain ") + "message");
  const auto recs = cap.records();
  ASSERT_EQ(recs.size(), 2u);
  const Captured& r = recs[0];
  EXPECT_EQ(r.level, LogLevel::info);
  EXPECT_EQ(r.message, "request");
  const std::vector<std::pair<std::string, std::string>> expected{
      {"peer", "127.0.0.1:4242"}, {"command", "add"}, {"ms", "12"}, {"ok", "true"}, {"ratio", "0.5"}, {"note", "a b"}};
  EXPECT_EQ(r.fields, expected);
  EXPECT_NE(r.thread_id, 0u);
  EXPECT_FALSE(r.thread.empty());
  EXPECT_EQ(recs[1].level, LogLevel::warn);
  EXPECT_EQ(recs[1].message, "plain message");
  EXPECT_TRUE(recs[1].fields.empty());

  // The record's time is the wall clock's, and a named thread is named.
  std::uint64_t main_id = r.thread_id;
  std::thread([] {
    pthread_setname_np(pthread_self(), "log-test-t");
    GREENRPC_LOG(error, "from a thread");
  }).join();
  const auto last = cap.records().back();
  EXPECT_EQ(last.thread, "log-test-t");
  EXPECT_NE(last.thread_id, main_id);
  (void)before;
}

// Breaks when: a disabled level still reaches the sink, or still formats its arguments.
TEST_F(LogTest, LevelFiltering) {
  Capture cap;
  int formatted = 0;
  auto text = [&formatted] {
    ++formatted;
    return std::string("x");
  };
  greenrpc::set_log_level(LogLevel::warn);
  GREENRPC_LOG(debug, text());
  GREENRPC_LOG(info, text());
  GREENRPC_LOG_FIELDS(info, "fields", {{"v", text()}});
  GREENRPC_LOG_LIMITED(debug, "k", "limited", {{"v", text()}});
  EXPECT_EQ(formatted, 0);
  EXPECT_TRUE(cap.records().empty());
  GREENRPC_LOG(warn, text());
  GREENRPC_LOG_FIELDS(error, "fields", {{"v", text()}});
  EXPECT_EQ(formatted, 2);
  EXPECT_EQ(cap.records().size(), 2u);

  greenrpc::set_log_level(LogLevel::off);
  GREENRPC_LOG(error, text());
  EXPECT_EQ(cap.records().size(), 2u);
  greenrpc::set_log_level(LogLevel::debug);
  GREENRPC_LOG(debug, text());
  EXPECT_EQ(cap.records().size(), 3u);
  EXPECT_EQ(greenrpc::log_level_name(LogLevel::warn), "warn");
}

// Breaks when: the default line changes shape (operators grep it), a value with a space or a
// quote is not quoted and escaped, or a newline in a message or value forges a second line.
TEST_F(LogTest, DefaultLineFormat) {
  const std::vector<LogField> fields{{"conn", 7},
                                     {"peer", "127.0.0.1:5000"},
                                     {"reason", "peer closed"},
                                     {"quote", "say \"hi\" \\ bye"},
                                     {"empty", ""},
                                     {"eq", "a=b"},
                                     {"ctl", "line1\nline2\x01"},
                                     {"utf8", "h\xc3\xa9"}};
  LogRecord r;
  r.level = LogLevel::warn;
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));  // 22:13:20.123 UTC
  r.message = "connection closed\r\nFAKE line";
  r.fields = fields;
  r.thread_id = 4242;
  std::string line;
  greenrpc::append_log_line(line, r);
  EXPECT_EQ(line,
            "22:13:20.123 greenrpc WARN [4242] connection closed\\r\\nFAKE line conn=7 peer=127.0.0.1:5000 "
            "reason=\"peer closed\" quote=\"say \\\"hi\\\" \\\\ bye\" empty=\"\" eq=\"a=b\" "
            "ctl=\"line1\\nline2\\x01\" utf8=h\xc3\xa9");
  EXPECT_EQ(line.find('\n'), std::string::npos);

  // Without fields: today's line.
  LogRecord plain = r;
  plain.message = "listening on 127.0.0.1:7777";
  plain.fields = {};
  plain.level = LogLevel::info;
  line.clear();
  greenrpc::append_log_line(line, plain);
  EXPECT_EQ(line, "22:13:20.123 greenrpc INFO [4242] listening on 127.0.0.1:7777");
}

// Breaks when: the default sink does not write one whole line per record to stderr, or a custom
// sink's removal (nullptr) does not bring it back.
TEST_F(LogTest, DefaultSinkWritesStderr) {
  greenrpc::set_log_level(LogLevel::debug);
  {
    Capture cap;  // installed, then removed: the default is back
  }
  StderrRedirect err;
  GREENRPC_LOG_FIELDS(info, "hello", {{"who", "the world"}, {"n", 3}});
  GREENRPC_LOG(debug, "second");
  const std::string out = err.text();
  static const std::regex line1(R"(^\d\d:\d\d:\d\d\.\d{3} greenrpc INFO \[\d+\] hello who="the world" n=3\n)");
  static const std::regex line2(R"(\n\d\d:\d\d:\d\d\.\d{3} greenrpc DEBUG \[\d+\] second\n$)");
  EXPECT_TRUE(std::regex_search(out, line1)) << out;
  EXPECT_TRUE(std::regex_search(out, line2)) << out;
}

// Breaks when: a sink that throws takes the caller down, or one that logs recurses.
TEST_F(LogTest, SinkThatThrowsOrLogsIsContained) {
  greenrpc::set_log_level(LogLevel::debug);
  int calls = 0;
  greenrpc::set_log_sink([&calls](const LogRecord& r) {
    ++calls;
    GREENRPC_LOG(error, "from inside the sink: " + std::string(r.message));  // to the default sink
    throw std::runtime_error("sink failed");
  });
  StderrRedirect err;
  GREENRPC_LOG(info, "first");
  GREENRPC_LOG_FIELDS(info, "second", {{"k", "v"}});
  greenrpc::set_log_sink(nullptr);
  const std::string out = err.text();
  EXPECT_EQ(calls, 2);
  EXPECT_NE(out.find("from inside the sink: first"), std::string::npos) << out;
  EXPECT_NE(out.find("from inside the sink: second"), std::string::npos) << out;
}

// ---- rate limiting -----------------------------------------------------------------------------

// Breaks when: a flood of limited lines is not cut to the bucket, or the lines refused are not
// counted in the summary before the next line that goes out.
TEST_F(LogTest, LimitedLinesAndTheirSummary) {
  greenrpc::set_log_level(LogLevel::debug);
  Capture cap;
  auto flood = [](int i) { GREENRPC_LOG_LIMITED(warn, "flood", "attacker-made warning", {{"i", i}}); };
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) flood(i);
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::size_t passed = cap.with_message("attacker-made warning").size();
  EXPECT_GE(passed, 10u);
  EXPECT_LE(passed, 10u + static_cast<std::size_t>(elapsed_s * 10) + 1) << "elapsed " << elapsed_s << " s";
  EXPECT_LE(cap.records().size(), 2 * passed);  // at most one summary per line that went out

  std::this_thread::sleep_for(150ms);  // a token back
  flood(1000);
  const auto recs = cap.records();
  ASSERT_GE(recs.size(), 2u);
  const Captured& summary = recs[recs.size() - 2];
  EXPECT_EQ(recs.back().message, "attacker-made warning");
  EXPECT_EQ(recs.back().field("i"), "1000");
  EXPECT_EQ(summary.level, LogLevel::warn);
  EXPECT_EQ(summary.field("key"), "flood");
  ASSERT_TRUE(summary.field("suppressed"));
  EXPECT_EQ(summary.message, *summary.field("suppressed") + " similar messages suppressed");
  // Every call is accounted for: the lines that went out plus every summary's count.
  std::uint64_t lines = 0, suppressed = 0;
  for (const auto& r : recs) {
    if (r.message == "attacker-made warning") ++lines;
    if (r.field("key") == "flood") suppressed += std::stoull(*r.field("suppressed"));
  }
  EXPECT_EQ(lines + suppressed, 1001u);

  // Another call site has its own bucket.
  GREENRPC_LOG_LIMITED(warn, "other", "another site");
  EXPECT_EQ(cap.with_message("another site").size(), 1u);
}

// Breaks when: the bucket is not thread-safe (more lines pass than it holds) or refills faster
// than its rate.
TEST_F(LogTest, LimiterUnderFourThreads) {
  static constinit greenrpc::LogLimiter limiter(10, 10);
  std::atomic<int> admitted{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50'000; ++i)
        if (limiter.admit()) ++admitted;
    });
  for (auto& t : threads) t.join();
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(admitted.load(), 10);
  EXPECT_LE(admitted.load(), 10 + static_cast<int>(elapsed_s * 10) + 1) << "elapsed " << elapsed_s << " s";
  EXPECT_EQ(limiter.take_suppressed() + static_cast<std::uint64_t>(admitted.load()), 200'000u);
  EXPECT_EQ(limiter.take_suppressed(), 0u);
}

// ---- set_log_sink while others log --------------------------------------------------------------

// Breaks when: swapping the sink under concurrent logging crashes, loses the guarantee that a
// replaced sink is never called once set_log_sink has returned, or drops records to nowhere.
TEST_F(LogTest, SetSinkWhileFourThreadsLog) {
  greenrpc::set_log_level(LogLevel::debug);
  StderrRedirect quiet(/*discard=*/true);  // the default sink takes part too
  struct Slot {
    std::atomic<bool> retired{false};
    std::atomic<long> calls{0};
    std::atomic<long> late{0};  // calls after set_log_sink replaced it
  };
  std::vector<std::unique_ptr<Slot>> slots;
  std::atomic<bool> stop{false};
  std::atomic<long> logged{0};
  std::vector<std::thread> loggers;
  for (int t = 0; t < 4; ++t)
    loggers.emplace_back([&, t] {
      while (!stop.load(std::memory_order_relaxed)) {
        GREENRPC_LOG_FIELDS(debug, "busy", {{"thread", t}, {"n", logged.load(std::memory_order_relaxed)}});
        logged.fetch_add(1, std::memory_order_relaxed);
      }
    });
  Slot* current = nullptr;
  const auto until = std::chrono::steady_clock::now() + 500ms;
  for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
    Slot* next = nullptr;
    if (i % 5 != 4) {
      slots.push_back(std::make_unique<Slot>());
      next = slots.back().get();
      greenrpc::set_log_sink([next](const LogRecord& r) {
        if (next->retired.load()) next->late.fetch_add(1);
        next->calls.fetch_add(1);
        volatile std::size_t n = r.message.size() + r.fields.size();
        (void)n;
      });
    } else {
      greenrpc::set_log_sink(nullptr);
    }
    if (current) current->retired.store(true);
    current = next;
  }
  stop = true;
  for (auto& t : loggers) t.join();
  greenrpc::set_log_sink(nullptr);
  long calls = 0, late = 0;
  for (auto& s : slots) {
    calls += s->calls.load();
    late += s->late.load();
  }
  EXPECT_GT(slots.size(), 10u);
  EXPECT_GT(logged.load(), 1000);
  EXPECT_GT(calls, 0);
  EXPECT_EQ(late, 0) << "a sink was called after set_log_sink had replaced it";
}

// ---- through a real server ---------------------------------------------------------------------

greenrpc::ServerOptions server_options() {
  greenrpc::ServerOptions o;
  o.port = 0;
  o.workers = 1;
  o.grace_period = 1000ms;
  return o;
}

// Breaks when: a request is not logged at debug level with its connection, peer, command,
// outcome, duration and sizes, or when an unknown name or an argument reaches the line.
TEST_F(LogTest, OneLinePerRequestAtDebug) {
  greenrpc::set_log_level(LogLevel::debug);
  Capture cap;
  greenrpc::App app;
  app.command("conn_id", [](const greenrpc::RequestContext& ctx) { return ctx.connection_id(); });
  app.command("echo_len", [](std::string s) { return s.size(); });
  auto server = app.start_background(server_options());
  greenrpc::Client client("127.0.0.1", server.port());
  const std::string conn = std::to_string(client.call<std::uint64_t>("conn_id"));
  EXPECT_EQ(client.call<std::size_t>("echo_len", std::string("an argument nobody should log")), 29u);
  EXPECT_THROW(client.call<int>("no_such_command_xyz"), greenrpc::Error);
  EXPECT_THROW(client.call<std::size_t>("echo_len", 42), greenrpc::Error);
  ASSERT_TRUE(wait_until([&] { return cap.with_message("request").size() >= 4; }, 5s));
  auto ok = cap.find("request", "command", "echo_len");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->field("conn"), conn);
  EXPECT_TRUE(ok->field("peer").value_or("").starts_with("127.0.0.1:"));
  EXPECT_TRUE(ok->field("duration_us").has_value());
  EXPECT_NE(ok->field("request_bytes").value_or("0"), "0");
  EXPECT_NE(ok->field("reply_bytes").value_or("0"), "0");
  auto outcomes = cap.with_message("request");
  bool saw_ok = false, saw_validation = false;
  for (const auto& r : outcomes) {
    if (r.field("command") == "echo_len" && r.field("outcome") == "ok") saw_ok = true;
    if (r.field("command") == "echo_len" && r.field("outcome") == "VALIDATION_ERROR") saw_validation = true;
  }
  EXPECT_TRUE(saw_ok);
  EXPECT_TRUE(saw_validation);
  auto unknown = cap.find("request", "outcome", "INVALID_COMMAND");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->field("command"), "(unknown)");
  for (const auto& r : cap.records()) {
    EXPECT_EQ(r.text().find("no_such_command_xyz"), std::string::npos) << r.text();
    EXPECT_EQ(r.text().find("nobody should log"), std::string::npos) << r.text();
  }
}

// Breaks when: a connection's opening or closing is not logged at debug level with its id (the
// one CLIENT ID and handlers see), peer, protocol, why it closed and how long it lived.
TEST_F(LogTest, ConnectionOpenedAndClosedLines) {
  greenrpc::set_log_level(LogLevel::debug);
  Capture cap;
  greenrpc::App app;
  app.command("conn_id", [](const greenrpc::RequestContext& ctx) { return ctx.connection_id(); });
  auto opts = server_options();
  opts.idle_timeout = 300ms;
  auto server = app.start_background(opts);

  // A client that leaves: "peer closed".
  std::uint64_t id = 0;
  {
    greenrpc::Client client("127.0.0.1", server.port());
    id = client.call<std::uint64_t>("conn_id");
  }
  const std::string conn = std::to_string(id);
  ASSERT_TRUE(wait_until([&] { return cap.find("connection closed", "conn", conn).has_value(); }, 5s));
  auto opened = cap.find("connection opened", "conn", conn);
  auto closed = cap.find("connection closed", "conn", conn);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->level, LogLevel::debug);
  EXPECT_EQ(opened->field("protocol"), "resp");
  ASSERT_TRUE(opened->field("peer"));
  EXPECT_TRUE(opened->field("peer")->starts_with("127.0.0.1:")) << *opened->field("peer");
  EXPECT_EQ(closed->field("peer"), opened->field("peer"));
  EXPECT_EQ(closed->field("protocol"), "resp");
  EXPECT_EQ(closed->field("reason"), "peer closed");
  ASSERT_TRUE(closed->field("duration_ms"));
  EXPECT_GE(std::stoll(*closed->field("duration_ms")), 0);
  EXPECT_EQ(closed->thread, "greenrpc-w0");

  // Idle past idle_timeout: "idle timeout", and the duration says how long it lived.
  {
    RawSocket idle(server.port());
    const std::string id_reply = idle.call("*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n");
    ASSERT_TRUE(id_reply.starts_with(":")) << id_reply;
    const std::string idle_conn = id_reply.substr(1, id_reply.size() - 3);
    ASSERT_TRUE(wait_until([&] { return cap.find("connection closed", "conn", idle_conn).has_value(); }, 5s));
    auto c = cap.find("connection closed", "conn", idle_conn);
    EXPECT_EQ(c->field("reason"), "idle timeout");
    EXPECT_GE(std::stoll(*c->field("duration_ms")), 250);
  }
  // QUIT, and a protocol error.
  {
    RawSocket quit(server.port());
    EXPECT_EQ(quit.call("*1\r\n$4\r\nQUIT\r\n"), "+OK\r\n");
    RawSocket bad(server.port());
    bad.send("*abc\r\n");
    EXPECT_TRUE(bad.read_reply().starts_with("-"));
    ASSERT_TRUE(wait_until([&] { return cap.find("connection closed", "reason", "QUIT").has_value(); }, 5s));
    ASSERT_TRUE(wait_until(
        [&] {
          for (auto& r : cap.with_message("connection closed"))
            if (r.field("reason")->starts_with("Protocol error")) return true;
          return false;
        },
        5s));
  }
  // Open when the server stops: "server stopping".
  RawSocket open(server.port());
  EXPECT_EQ(open.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
  server.stop();
  EXPECT_TRUE(cap.find("connection closed", "reason", "server stopping").has_value());
  // Every connection opened was closed, each with one line.
  EXPECT_EQ(cap.with_message("connection opened").size(), cap.with_message("connection closed").size());
}

// Breaks when: refusals at max_connections (which anyone can provoke) are not rate-limited, or
// not logged at all.
TEST_F(LogTest, RefusedConnectionsAreRateLimited) {
  greenrpc::set_log_level(LogLevel::warn);
  Capture cap;
  greenrpc::App app;
  auto opts = server_options();
  opts.max_connections = 1;
  auto server = app.start_background(opts);
  RawSocket first(server.port());
  EXPECT_EQ(first.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) {
    RawSocket refused(server.port());
    EXPECT_TRUE(refused.read_reply().starts_with("-")) << "refused with a reason";
  }
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto refusals = cap.with_message("connection refused: max_connections reached");
  EXPECT_GE(refusals.size(), 10u);
  EXPECT_LE(refusals.size(), 11u + static_cast<std::size_t>(elapsed_s * 10)) << "elapsed " << elapsed_s << " s";
  ASSERT_FALSE(refusals.empty());
  EXPECT_EQ(refusals[0].level, LogLevel::warn);
  EXPECT_EQ(refusals[0].field("max_connections"), "1");
  EXPECT_TRUE(refusals[0].field("peer")->starts_with("127.0.0.1:"));
  server.stop();
}

// Breaks when: failed TLS handshakes (a scanner's plaintext on a TLS port) are not warned with the
// peer and the reason, or flood the log.
TEST_F(LogTest, FailedTlsHandshakesAreWarnedAndLimited) {
  const test_support::TestCertificates* certs = nullptr;
  try {
    certs = &test_support::TestCertificates::get();
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no test certificates: " << e.what();
  }
  greenrpc::set_log_level(LogLevel::warn);
  Capture cap;
  greenrpc::App app;
  auto opts = server_options();
  opts.tls.cert_file = certs->pem("server");
  opts.tls.key_file = certs->key("server");
  auto server = app.start_background(opts);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) {
    RawSocket s(server.port());
    // A ClientHello-looking record header, then garbage: the handshake fails at once.
    s.send(std::string("\x16\x03\x01\x00\x05garbage-not-a-hello", 24));
    s.read_exactly(1 << 20);  // until the server closes
  }
  ASSERT_TRUE(wait_until([&] { return cap.with_message("TLS handshake failed").size() >= 10; }, 5s));
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto warned = cap.with_message("TLS handshake failed");
  EXPECT_LE(warned.size(), 11u + static_cast<std::size_t>(elapsed_s * 10)) << "elapsed " << elapsed_s << " s";
  EXPECT_LT(warned.size(), 30u);
  EXPECT_EQ(warned[0].level, LogLevel::warn);
  EXPECT_TRUE(warned[0].field("peer")->starts_with("127.0.0.1:"));
  EXPECT_FALSE(warned[0].field("reason")->empty());
  // The next one after a pause carries the count of those not logged.
  std::this_thread::sleep_for(150ms);
  {
    RawSocket s(server.port());
    s.send(std::string("\x16\x03\x01\x00\x05garbage-not-a-hello", 24));
    s.read_exactly(1 << 20);
  }
  ASSERT_TRUE(wait_until(
      [&] {
        for (auto& r : cap.records())
          if (r.field("key") == "tls_handshake_failed") return std::stoi(*r.field("suppressed")) > 0;
        return false;
      },
      5s));
  server.stop();
}

// ---- secrets ------------------------------------------------------------------------------------

// Breaks when: a password (AUTH, right or wrong), the signing secret, or a request or reply tag
// appears in any record — message or field — at debug level, on the server or the client.
TEST_F(LogTest, NoSecretInAnyRecord) {
  greenrpc::set_log_level(LogLevel::debug);
  Capture cap;
  const std::string password = "pw-Hunter2-XYZZY";
  const std::string wrong_password = "pw-WRONG-guess-QWERTY";
  const std::string secret = "sk-signing-SECRET-8675309";
  const std::string wrong_secret = "sk-forged-SECRET-31337";
  std::vector<std::string> tags;  // raw 32-byte tags seen on the wire

  greenrpc::App app;
  app.command("echo", [](std::string s) { return s; });
  app.command("whoami", [](greenrpc::AuthRequired<std::string> user) { return *user; });
  app.auth([password](std::string_view user, std::string_view pw) -> std::optional<std::string> {
    if (pw == password) return std::string(user.empty() ? "default" : user);
    return std::nullopt;
  });
  auto opts = server_options();
  opts.auth_secret = secret;
  opts.previous_auth_secrets = {secret + "-old"};
  auto server = app.start_background(opts);

  // The client: AUTH with the password on connect, every request signed.
  {
    greenrpc::ClientOptions co;
    co.password = password;
    co.username = "alice";
    co.auth_secret = secret;
    greenrpc::Client client("127.0.0.1", server.port(), co);
    EXPECT_EQ(client.call<std::string>("whoami"), "alice");
    EXPECT_EQ(client.call<std::string>("echo", std::string("hello")), "hello");
  }
  // A client with the wrong password: AUTH fails, so do its calls.
  {
    greenrpc::ClientOptions co;
    co.password = wrong_password;
    co.auth_secret = secret;
    co.connect_retries = 1;
    greenrpc::Client client("127.0.0.1", server.port(), co);
    EXPECT_ANY_THROW(client.call<std::string>("whoami"));
  }
  // A client with the wrong signing secret: its requests are refused.
  {
    greenrpc::ClientOptions co;
    co.auth_secret = wrong_secret;
    co.connect_retries = 1;
    greenrpc::Client client("127.0.0.1", server.port(), co);
    EXPECT_ANY_THROW(client.call<std::string>("echo", std::string("x")));
  }
  // By hand: AUTH right and wrong, a signed request and its signed reply, a forged tag.
  {
    RawSocket s(server.port());
    EXPECT_TRUE(s.call(env_test::frame_of({"AUTH", "alice", wrong_password})).starts_with("-"));
    EXPECT_TRUE(s.call(env_test::frame_of({"AUTH", wrong_password})).starts_with("-"));
    EXPECT_EQ(s.call(env_test::frame_of({"AUTH", "alice", password})), "+OK\r\n");
    env_test::Signer signer(secret, s.nonce());
    const std::string req = signer.request(1, std::nullopt, {"echo", env_test::mp(std::string("signed"))});
    const std::string reply = s.call(req);
    ASSERT_TRUE(reply.starts_with(greenrpc::envelope::kSignedReplyHead)) << env_test::show(reply);
    tags.push_back(reply.substr(greenrpc::envelope::kSignedReplyHead.size(), 32));
    env_test::Signer forger(wrong_secret, signer.nonce);
    const std::string forged = forger.request(2, std::nullopt, {"echo", env_test::mp(std::string("forged"))});
    EXPECT_NE(s.call(forged).find("AUTH"), std::string::npos) << "refused";
    // The tags of both requests, from their envelopes.
    for (const std::string* frame : {&req, &forged}) {
      std::vector<std::string_view> elements{"echo"};
      const std::string arg = env_test::mp(std::string(frame == &req ? "signed" : "forged"));
      elements.push_back(arg);
      greenrpc::envelope::Header header;
      header.seq = frame == &req ? 1 : 2;
      const greenrpc::Tag t = greenrpc::envelope::request_tag(frame == &req ? signer.key : forger.key, signer.nonce,
                                                              header, elements);
      tags.emplace_back(reinterpret_cast<const char*>(t.data()), t.size());
      ASSERT_NE(frame->find(tags.back()), std::string::npos) << "the tag computed is the one sent";
    }
  }
  server.stop();
  // Failed AUTH is warned (rate-limited), with the connection and peer only.
  const auto refused = cap.with_message("AUTH refused");
  ASSERT_GE(refused.size(), 3u);
  EXPECT_EQ(refused[0].level, LogLevel::warn);
  EXPECT_TRUE(refused[0].field("peer")->starts_with("127.0.0.1:"));
  EXPECT_FALSE(refused[0].field("user")) << "not even the user name: it may be a password typed in the wrong field";

  auto hex = [](std::string_view raw, bool upper) {
    static const char* lower_digits = "0123456789abcdef";
    static const char* upper_digits = "0123456789ABCDEF";
    const char* d = upper ? upper_digits : lower_digits;
    std::string out;
    for (unsigned char c : raw) {
      out += d[c >> 4];
      out += d[c & 0xf];
    }
    return out;
  };
  std::vector<std::string> forbidden{password, wrong_password, secret, wrong_secret, secret + "-old"};
  for (const std::string& t : tags) {
    forbidden.push_back(t);
    forbidden.push_back(hex(t, false));
    forbidden.push_back(hex(t, true));
    forbidden.push_back(hex(t, false).substr(0, 16));  // even a prefix
  }
  const auto recs = cap.records();
  EXPECT_GE(recs.size(), 8u) << "debug level: the connections' lines at least";
  for (const Captured& r : recs) {
    const std::string text = r.text();
    std::string line;
    std::vector<LogField> fields;
    for (const auto& [k, v] : r.fields) fields.emplace_back(k, v);
    LogRecord rec;
    rec.message = r.message;
    rec.fields = fields;
    greenrpc::append_log_line(line, rec);
    for (const std::string& f : forbidden) {
      EXPECT_EQ(text.find(f), std::string::npos) << "secret in a record: " << env_test::show(text);
      EXPECT_EQ(line.find(f), std::string::npos) << "secret in a line: " << env_test::show(line);
    }
  }
}

}  // namespace
