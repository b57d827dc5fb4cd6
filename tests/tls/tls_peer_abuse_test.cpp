// Peers that misuse a TLS connection, end to end on 127.0.0.1: one provoking records it never
// reads, one stopping in the middle of a record, one that never says anything, one whose
// ClientHello crosses a stop. What each must cost the server (a bounded amount of memory, no
// fiber, no warning, no handshake) while other clients go on being served.
//
// Each test says in a comment what breaking it takes. Every wait is bounded: raw sockets have
// receive and send timeouts, loops have deadlines.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>

#include "../support/loopback.hpp"
#include "greenrpc/runtime/log.hpp"
#include "raw_tls.hpp"
#include "tls_test_support.hpp"

using namespace tls_test;
using test_support::RawSocket;

namespace {

const std::string kPing = "*1\r\n$4\r\nPING\r\n";

// Empty when all of `bytes` went out, else why not (MSG_NOSIGNAL: a closed peer is an error,
// not a signal).
std::string send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return n == 0 ? "sent nothing" : std::strerror(errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::uint16_t local_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// This process's resident memory (the server runs in it), in KiB.
long long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  return -1;
}

// The warnings and errors greenrpc logs while it lives, one formatted line per record
// (set_log_sink); warnings are logged meanwhile whatever GREENRPC_LOG says. Echoed to stderr at
// the end.
class LogCapture {
 public:
  LogCapture() {
    level_ = greenrpc::log_level();
    if (!greenrpc::log_enabled(greenrpc::LogLevel::warn)) greenrpc::set_log_level(greenrpc::LogLevel::warn);
    greenrpc::set_log_sink([this](const greenrpc::LogRecord& r) {
      if (r.level < greenrpc::LogLevel::warn) return;
      std::string line;
      greenrpc::append_log_line(line, r);
      std::lock_guard lock(mutex_);
      text_ += line + "\n";
    });
  }
  ~LogCapture() {
    greenrpc::set_log_sink(nullptr);
    greenrpc::set_log_level(level_);
    std::cerr << text();
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  mutable std::mutex mutex_;
  std::string text_;
  greenrpc::LogLevel level_ = greenrpc::LogLevel::warn;
};


}  // namespace

// ---- records a peer provokes and does not read --------------------------------------------------

// A TLS 1.2 peer that sends renegotiation ClientHellos and never reads. The server refuses each
// with a no_renegotiation alert (a warning: the connection goes on), produced inside its read;
// the peer's small receive window and then the server's send buffer fill, and the alerts pile
// up in the server's TLS stream. OpenSSL's client API cannot send a ClientHello without waiting
// for the answer, so the records are made by hand with the session's keys (Tls12Records): 4,096
// ClientHello headers to a 16 KiB record (the server refuses on the message type, before its
// body), each answered by a 31-byte alert.
// The peer stops at 8 MiB sent (it counts what its kernel took: the socket buffers on both sides
// hold about 4 MiB of it) or when a send fails because the server closed.
// Breaks when: the server holds the unread alerts without bound (the connection is never closed;
// 8 MiB of attempts would be 62 MB of alerts held), or the other client stalls or fails meanwhile.
TEST_F(TlsServerTest, APeerProvokingAlertsItNeverReadsIsClosedAndOthersAreServed) {
  start(tls_server());
  greenrpc::Client other = client(tls_client());
  ASSERT_EQ(other.call(test_app::add, 1, NumberInput{1}), 2);
  const std::size_t base = server.connections();
  RawTlsClient peer(tls_port(), certs().pem("ca"), 5000, /*tls12_only=*/true, /*receive_buffer=*/4096);
  ASSERT_EQ(SSL_set_cipher_list(peer.ssl(), "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"), 1);
  ASSERT_EQ(peer.handshake(), "");
  Tls12Records records(peer.ssl());
  ASSERT_TRUE(wait_until([&] { return server.connections() == base + 1; }, 2s));

  // One attempt, its answer read: the hand-made records are right, and the server refuses with
  // a warning (1), no_renegotiation (100), not a fatal alert.
  const std::string hello("\x01\x00\x00\x00", 4);
  ASSERT_EQ(send_all(peer.fd(), records.seal(0x16, hello)), "");
  const std::string answer = read_record(peer.fd());
  ASSERT_EQ(answer.size(), 31u) << "the server did not answer the renegotiation attempt with one alert";
  ASSERT_EQ(answer[0], '\x15') << "not an alert record";
  const std::optional<std::string> alert = records.open(answer);
  ASSERT_TRUE(alert.has_value()) << "the alert does not decrypt: the hand-made keys are wrong";
  ASSERT_EQ(*alert, std::string("\x01\x64", 2)) << "not a no_renegotiation warning";

  // The flood, never read.
  BackgroundCaller caller(other);
  ASSERT_TRUE(wait_until([&] { return caller.ok.load() > 0; }, 2s));
  std::string burst;
  while (burst.size() + hello.size() <= 16384) burst += hello;
  constexpr std::size_t kCap = 8 << 20;  // 2 M alerts, 62 MB, if the server held them all
  const long long rss_before = rss_kib();
  const int ok_before = caller.ok.load();
  const auto t0 = Clock::now();
  std::size_t sent = 0;
  std::string ended = "never: the server took " + std::to_string(kCap) + " bytes of renegotiation attempts";
  while (sent < kCap && ms_since(t0) < 8000) {
    const std::string record = records.seal(0x16, burst);
    if (std::string why = send_all(peer.fd(), record); !why.empty()) {
      ended = "send: " + why;
      break;
    }
    sent += record.size();
  }
  const long long flood_ms = ms_since(t0);
  const bool closed = wait_until([&] { return server.connections() == base; }, 2s);
  const long long rss_after = rss_kib();
  // Served across the flood (its worker also reads the flood: calls may wait for a 16 KiB read).
  const bool served = wait_until([&] { return caller.ok.load() > ok_before; }, 2s);
  const int ok_during = caller.ok.load() - ok_before;
  caller.finish();
  std::cout << "[ flood ] " << sent << " bytes of ClientHellos sent (" << sent / (16384 + 29) * 4096
            << " attempts) in " << flood_ms << " ms, ended: " << ended << "; RSS " << rss_before << " -> " << rss_after
            << " KiB; other client's calls meanwhile: " << ok_during << "\n";
  EXPECT_EQ(ended.rfind("send: ", 0), 0u) << ended;
  EXPECT_TRUE(closed) << "connections: " << server.connections() << ", expected " << base;
  EXPECT_LT(flood_ms, 5000) << "the server closed the flooding connection late";
  EXPECT_LT(rss_after - rss_before, 32 * 1024) << "the process grew by " << (rss_after - rss_before) << " KiB";
  EXPECT_TRUE(served) << "the other client was not served during the flood";
  EXPECT_EQ(caller.failed.load(), 0) << caller.first_failure;
  EXPECT_EQ(other.call(test_app::add, 2, NumberInput{2}), 4);
  EXPECT_EQ(info_field(other, "connected_clients"), 1);
}

// ---- a record cut in two ------------------------------------------------------------------------

// A request followed by the first bytes of the next record, then a pause: the server answers the
// request and holds a partial record in OpenSSL with nothing to decrypt, so the connection goes
// dormant (no fiber) like any idle one. First 3 bytes (a partial header: OpenSSL's read buffer
// holds them, SSL_has_pending says so), then the other 2 (a whole header: OpenSSL moves it to
// the record being read), then the rest of the record, which completes the second request.
// Breaks when: buffered ciphertext that cannot be decrypted yet counts as readable data (the
// connection keeps a fiber that wakes at every idle_fiber_linger and never goes dormant), or
// the bytes held are lost when it goes dormant (the second request is never answered).
TEST_F(TlsServerTest, AConnectionHoldingAPartialRecordGoesDormantAndTheRestCompletesTheRequest) {
  start(tls_server());  // idle_fiber_linger 20 ms
  RawTlsClient peer(tls_port(), certs().pem("ca"));
  ASSERT_EQ(peer.handshake(), "");
  ASSERT_EQ(peer.call(kPing), "+PONG\r\n");
  auto helper = client(tls_client());  // busy running INFO: not counted as dormant
  long long dormant = -1;
  auto is_dormant = [&] { return (dormant = info_field(helper, "greenrpc_dormant_clients")) == 1; };
  ASSERT_TRUE(wait_until(is_dormant, 2s)) << "greenrpc_dormant_clients: " << dormant;
  const std::string first = peer.seal(kPing);
  const std::string second = peer.seal(kPing);
  ASSERT_GT(second.size(), 5u);
  // In one segment: the server reads both, and is left with 3 bytes of a header after the first
  // request.
  ASSERT_EQ(send_all(peer.fd(), first + second.substr(0, 3)), "");
  ASSERT_EQ(peer.read_reply(), "+PONG\r\n");
  const auto t0 = Clock::now();
  EXPECT_TRUE(wait_until(is_dormant, 1s))
      << "a connection holding a partial record header never went dormant (greenrpc_dormant_clients: " << dormant << ")";
  const long long dormant_ms = ms_since(t0);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(is_dormant()) << "it did not stay dormant";
  std::cout << "[ timing ] dormant " << dormant_ms << " ms after the reply, with a partial record held\n";
  // The rest of the header: a fiber reads it, and the connection goes dormant again holding the
  // whole header.
  ASSERT_EQ(send_all(peer.fd(), second.substr(3, 2)), "");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(wait_until(is_dormant, 1s)) << "holding a whole record header: " << dormant;
  ASSERT_EQ(send_all(peer.fd(), second.substr(5)), "");
  EXPECT_EQ(peer.read_reply(), "+PONG\r\n") << "the request completed by the rest of its record";
  EXPECT_EQ(peer.call(kPing), "+PONG\r\n");
}

// ---- a new connection that never speaks ----------------------------------------------------------

// A silent TCP connection on a TLS port: nothing was attempted, so its handshake deadline closes
// it without a fiber and without a warning (a port scanner's connections are not failed
// handshakes). A peer that sent half a ClientHello and stopped is a failed handshake: warned
// about — which also shows that the log is captured.
// Breaks when: the silent connection is not closed at the deadline, or is logged as a failed
// handshake (its timeout went through a fiber and the handshake code).
TEST_F(TlsServerTest, ASilentConnectionIsClosedAtTheHandshakeTimeoutWithoutAWarning) {
  LogCapture log;
  auto o = tls_server();
  o.tls.handshake_timeout = 300ms;
  start(o);
  const auto t0 = Clock::now();
  RawSocket silent(tls_port(), 5000);
  RawSocket partial(tls_port(), 5000);
  partial.send(std::string_view("\x16\x03\x01\x02\x00", 5));
  auto ends = await_ends({silent.fd(), partial.fd()}, t0, 300ms + 1500ms);
  const char* names[] = {"silent", "partial ClientHello"};
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(ends[i].how == "eof" || ends[i].how == "reset") << names[i] << ": " << ends[i].how;
    EXPECT_GE(ends[i].at_ms, 250) << names[i] << " closed before its deadline";
    EXPECT_LE(ends[i].at_ms, 300 + 1500) << names[i];
  }
  EXPECT_TRUE(wait_until([&] { return server.connections() == 0; }, 2s)) << server.connections();
  const std::string partial_peer = "127.0.0.1:" + std::to_string(local_port(partial.fd())) + " ";
  const std::string silent_peer = "127.0.0.1:" + std::to_string(local_port(silent.fd())) + " ";
  EXPECT_TRUE(wait_until([&] { return log.text().find(partial_peer) != std::string::npos; }, 1s))
      << "the stalled handshake was not logged (is the log captured?):\n" << log.text();
  const std::string text = log.text();
  EXPECT_EQ(text.find(silent_peer), std::string::npos) << "the silent connection was warned about:\n" << text;
  std::cout << "[ timing ] silent closed at " << ends[0].at_ms << " ms, partial at " << ends[1].at_ms << " ms\n";
}

// ---- a ClientHello that crosses a stop -----------------------------------------------------------

// A connection dormant before its first byte whose ClientHello reaches the server during a drain:
// no request was sent on it, so nothing is owed — it is closed at once, without a handshake
// (which would only end in a close_notify), and stop() does not wait for it. Deterministic: a
// handler blocks the only worker's thread while the ClientHello arrives and stop() begins, so the
// worker sees both together when it is free.
// Breaks when: the server runs the whole handshake for a connection it is about to close (the
// client's SSL_connect succeeds), or that handshake holds the stop.
TEST_F(TlsServerTest, AClientHelloThatCrossesADrainIsClosedWithoutAHandshake) {
  std::atomic<bool> blocking{false};
  std::atomic<Clock::rep> unblocked_at{0};
  app.command("block_worker_ms", [&](int ms) {
    blocking = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // the worker's thread, not a fiber
    unblocked_at = Clock::now().time_since_epoch().count();
    return ms;
  });
  auto o = tls_server();
  o.workers = 1;
  o.grace_period = 5s;
  start(o);
  auto busy = client(tls_client());
  ASSERT_EQ(busy.call(test_app::add, 1, NumberInput{1}), 2);
  RawTlsClient peer(tls_port(), certs().pem("ca"));  // connected, silent
  long long dormant = -1;
  ASSERT_TRUE(wait_until([&] { return (dormant = info_field(busy, "greenrpc_dormant_clients")) == 1; }, 2s))
      << "the silent connection is not dormant: " << dormant;
  auto blocked = busy.call_async<int>("block_worker_ms", 600);
  ASSERT_TRUE(wait_until([&] { return blocking.load(); }, 2s));

  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  JoinOnExit joiner{done, threads};
  std::string handshake = "not finished";
  long long handshake_ms = -1, stop_ms = -1;
  Clock::rep stop_called_at = 0;
  const auto t0 = Clock::now();
  threads.emplace_back([&] {
    handshake = peer.handshake();
    handshake_ms = ms_since(t0);
  });
  std::this_thread::sleep_for(50ms);  // the ClientHello is in the server's socket
  threads.emplace_back([&] {
    const auto s0 = Clock::now();
    stop_called_at = s0.time_since_epoch().count();
    server.stop();
    stop_ms = ms_since(s0);
  });
  for (auto& t : threads) t.join();
  if (stop_called_at >= unblocked_at.load())  // the worker was free before stop() began: not this case
    GTEST_SKIP() << "stop() began after the worker was free again (a very loaded machine): nothing shown";
  std::cout << "[ timing ] handshake ended at " << handshake_ms << " ms; stop() took " << stop_ms << " ms\n";
  EXPECT_NE(handshake, "") << "the server completed a handshake for a connection it was stopping";
  EXPECT_LT(handshake_ms, 2000);
  EXPECT_LT(stop_ms, 2000) << "stop() waited (the handler blocks for 600 ms, the grace period is 5 s)";
  EXPECT_EQ(outcome_of([&] { EXPECT_EQ(blocked.get(), 600); }), "ok") << "the request running at the stop";
}
