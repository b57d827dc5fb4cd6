// The server's side of TLS, end to end on 127.0.0.1: where TLS is served (its own port, beside
// a plaintext one, or sniffed on one port), the handshake deadline against silent and stalled
// peers, certificate reload under load, and idle TLS connections going dormant.
//
// Each test says in a comment what breaking it takes. Every wait is bounded: raw sockets have
// receive timeouts, loops have deadlines.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>

#include "../support/loopback.hpp"
#include "raw_tls.hpp"
#include "tls_test_support.hpp"

using namespace tls_test;
using test_support::RawSocket;

namespace {

// A client pinned to TestCertificates' `name`: which certificate a new connection gets.
std::string outcome_pinned_to(std::uint16_t port, const std::string& name) {
  auto opts = tls_client();
  opts.tls.ca_file.clear();
  opts.tls.pinned_cert_file = certs().pem(name);
  greenrpc::Client c("127.0.0.1", port, opts);
  return outcome_of([&] {
    if (c.call(test_app::add, 2, NumberInput{2}) != 4) throw std::runtime_error("wrong sum");
  });
}

}  // namespace

// ---- 4. where TLS is served ------------------------------------------------------------------------

// Breaks when: accept_plaintext does not sniff (one kind of client is refused on the shared
// port), or a sniffed plaintext connection claims a TLS session.
TEST_F(TlsServerTest, AcceptPlaintextServesTlsAndPlaintextClientsOnOnePort) {
  auto o = tls_server();
  o.tls.accept_plaintext = true;
  start(o);
  EXPECT_EQ(server.tls_port(), server.port());
  auto secure = client(tls_client());
  greenrpc::Client plain("127.0.0.1", server.port());
  EXPECT_EQ(secure.call(test_app::add, 1, NumberInput{2}), 3);
  EXPECT_EQ(plain.call(test_app::add, 3, NumberInput{4}), 7);
  EXPECT_EQ(secure.call<std::string>("tls_version"), "TLSv1.3");
  EXPECT_EQ(plain.call<std::string>("tls_version"), "none");
  EXPECT_EQ(counters.calls.load(), 2);
}

// Breaks when: tls.port does not open a second listener, either port speaks the other's
// protocol, or a mismatched client on either is not told so.
TEST_F(TlsServerTest, TlsPortServesTlsBesideAPlaintextPort) {
  auto o = tls_server();
  o.tls.port = 0;
  start(o);
  ASSERT_NE(server.tls_port(), 0);
  ASSERT_NE(server.tls_port(), server.port());
  greenrpc::Client plain("127.0.0.1", server.port());
  auto secure = client(tls_client());
  EXPECT_EQ(plain.call(test_app::add, 1, NumberInput{1}), 2);
  EXPECT_EQ(secure.call(test_app::add, 2, NumberInput{2}), 4);
  EXPECT_EQ(plain.call<std::string>("tls_version"), "none");
  EXPECT_EQ(secure.call<std::string>("tls_version"), "TLSv1.3");
  // Crossed over: a TLS client on the plaintext port, a plaintext one on the TLS port.
  greenrpc::Client tls_on_plain("127.0.0.1", server.port(), tls_client());
  EXPECT_EQ(outcome_of([&] { tls_on_plain.call(test_app::add, 1, NumberInput{1}); }), "TlsError not_tls");
  greenrpc::ClientOptions quick;
  quick.connect_timeout = 2s;
  greenrpc::Client plain_on_tls("127.0.0.1", server.tls_port(), quick);
  std::string what;
  try {
    plain_on_tls.call(test_app::add, 1, NumberInput{1});
  } catch (const std::exception& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("requires TLS"), std::string::npos) << what;
  EXPECT_EQ(counters.calls.load(), 2);
}

// ---- 5. the handshake deadline ------------------------------------------------------------------

// A silent peer and one that sent the first 5 bytes of a ClientHello (a record header promising
// 512 bytes) and stopped: each closed at its deadline (`silent_ms`, `partial_ms` from connect),
// while a TLS client keeps being served, and the open-connection count drops back.
// Breaks when: either peer holds its slot past its deadline (never closed: "open"), is closed
// long before it, the count does not drop, or the TLS client stalls or fails meanwhile.
void expect_stalled_handshakes_closed(greenrpc::Server& server, std::uint16_t port, long long silent_ms,
                                      long long partial_ms) {
  constexpr long long kSlack = 1500;  // a loaded machine's scheduling, not a speed claim
  greenrpc::Client c("127.0.0.1", port, tls_client());
  ASSERT_EQ(c.call(test_app::add, 1, NumberInput{1}), 2);
  const std::size_t base = server.connections();
  BackgroundCaller caller(c);
  const auto t0 = Clock::now();
  RawSocket silent(port, 5000);
  RawSocket partial(port, 5000);
  partial.send(std::string_view("\x16\x03\x01\x02\x00", 5));
  ASSERT_TRUE(wait_until([&] { return server.connections() == base + 2; }, 2s)) << server.connections();
  const int ok_at_start = caller.ok.load();
  auto ends = await_ends({silent.fd(), partial.fd()}, t0, std::chrono::milliseconds(std::max(silent_ms, partial_ms) + kSlack));
  const int ok_at_end = caller.ok.load();
  const bool dropped = wait_until([&] { return server.connections() == base; }, 2s);
  caller.finish();
  const char* names[] = {"silent", "partial ClientHello"};
  const long long expected[] = {silent_ms, partial_ms};
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(ends[i].how == "eof" || ends[i].how == "reset") << names[i] << ": " << ends[i].how;
    if (ends[i].at_ms >= 0) {
      EXPECT_GE(ends[i].at_ms, expected[i] - 50) << names[i] << " closed before its " << expected[i] << " ms deadline";
    }
    EXPECT_LE(ends[i].at_ms, expected[i] + kSlack) << names[i];
  }
  std::cout << "[ timing ] silent closed at " << ends[0].at_ms << " ms, partial at " << ends[1].at_ms
            << " ms; TLS calls meanwhile: " << ok_at_end - ok_at_start << "\n";
  EXPECT_TRUE(dropped) << "connections: " << server.connections() << ", expected " << base;
  EXPECT_GT(ok_at_end, ok_at_start) << "the TLS client was not served while the handshakes stalled";
  EXPECT_EQ(caller.failed.load(), 0) << caller.first_failure;
}

TEST_F(TlsServerTest, SilentAndStalledHandshakesAreClosedAtTheHandshakeTimeout) {
  auto o = tls_server();
  o.tls.handshake_timeout = 300ms;
  start(o);
  expect_stalled_handshakes_closed(server, tls_port(), 300, 300);
}

// On a port that also accepts plaintext, a connection that has sent nothing has not chosen TLS:
// it waits like a plaintext one, until idle_timeout; the handshake deadline counts from the
// first byte (0x16).
TEST_F(TlsServerTest, OnASniffedPortSilentPeersGetTheIdleTimeoutAndStalledHandshakesTheHandshakeTimeout) {
  auto o = tls_server();
  o.tls.handshake_timeout = 300ms;
  o.tls.accept_plaintext = true;
  o.idle_timeout = 800ms;
  start(o);
  expect_stalled_handshakes_closed(server, tls_port(), 800, 300);
}

// ---- 6. certificate reload ----------------------------------------------------------------------

class TlsReloadTest : public TlsServerTest {
 protected:
  void SetUp() override {
    TlsServerTest::SetUp();
    replace_file(certs().pem("server"), live_cert);
    replace_file(certs().key("server"), live_key);
  }
  greenrpc::ServerOptions live_options() {
    auto o = tls_server();
    o.tls.cert_file = live_cert;
    o.tls.key_file = live_key;
    return o;
  }
  const std::string live_cert = certs().scratch("live.pem");
  const std::string live_key = certs().scratch("live.key");
};

// 50 client threads call continuously over TLS (five of them reconnecting every 10 calls, so
// handshakes cross the reload) while the certificate files are renamed over and reloaded.
// Breaks when: a reload drops or fails a call on an open connection or a handshake in progress,
// or new connections keep the old certificate (the client pinned to the new one is refused).
TEST_F(TlsReloadTest, ReloadUnderLoadFailsNoCallAndNewConnectionsGetTheNewCertificate) {
  auto o = live_options();
  o.workers = 2;
  start(o);
  ASSERT_EQ(outcome_pinned_to(server.port(), "server"), "ok");
  ASSERT_EQ(outcome_pinned_to(server.port(), "server2"), "TlsError unknown_ca");
  const std::string old_fingerprint = file_fingerprint(certs().pem("server"));
  const std::string new_fingerprint = file_fingerprint(certs().pem("server2"));
  ASSERT_NE(old_fingerprint, new_fingerprint);
  {
    RawTlsClient before(server.port(), certs().pem("ca"));
    ASSERT_EQ(before.handshake(), "");
    EXPECT_EQ(before.peer_fingerprint(), old_fingerprint);
  }

  constexpr int kThreads = 50;
  greenrpc::EventLoopThread loop;  // the clients' I/O, shared; outlives them
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::mutex failure_mutex;
  std::string first_failure;
  std::vector<std::thread> threads;
  JoinOnExit joiner{stop, threads};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const bool reconnecting = t % 10 == 0;
      auto c = std::make_unique<greenrpc::Client>("127.0.0.1", server.port(), tls_client(), loop);
      for (int i = 0; !stop && i < 1'000'000; ++i) {
        if (reconnecting && i % 10 == 9)
          c = std::make_unique<greenrpc::Client>("127.0.0.1", server.port(), tls_client(), loop);
        std::string o = outcome_of([&] {
          if (c->call(test_app::add, t, NumberInput{i}) != t + i) throw std::runtime_error("wrong sum");
        });
        if (o == "ok") {
          ++ok;
        } else if (failed++ == 0) {
          std::lock_guard lock(failure_mutex);
          first_failure = o;
        }
      }
    });
  }
  EXPECT_TRUE(wait_until([&] { return ok.load() >= 1000; }, 10s)) << ok.load();
  replace_file(certs().pem("server2"), live_cert);
  replace_file(certs().key("server2"), live_key);
  const int ok_before = ok.load();
  const auto accepted_before = server.connections_accepted();
  EXPECT_EQ(outcome_of([&] { server.reload_tls(); }), "ok");
  EXPECT_TRUE(wait_until([&] { return ok.load() >= ok_before + 1000 && server.connections_accepted() >= accepted_before + 20; }, 10s))
      << "calls after the reload: " << ok.load() - ok_before
      << ", new connections: " << server.connections_accepted() - accepted_before;
  stop = true;
  for (auto& t : threads) t.join();
  std::cout << "[ counts ] calls: " << ok.load() << " ok (" << ok.load() - ok_before << " after the reload), "
            << failed.load() << " failed; connections accepted after the reload: "
            << server.connections_accepted() - accepted_before << "\n";
  EXPECT_EQ(failed.load(), 0) << first_failure;
  RawTlsClient after(server.port(), certs().pem("ca"));
  ASSERT_EQ(after.handshake(), "");
  EXPECT_EQ(after.peer_fingerprint(), new_fingerprint) << "a new connection did not get the new certificate";
  EXPECT_EQ(outcome_pinned_to(server.port(), "server2"), "ok") << "a new connection did not get the new certificate";
  EXPECT_EQ(outcome_pinned_to(server.port(), "server"), "TlsError unknown_ca") << "a new connection got the old certificate";
}

// Breaks when: a reload with a broken or mismatched key replaces the working context (new
// connections then fail), does not throw, or says nothing of the file; or the server cannot
// reload once the files are right again.
TEST_F(TlsReloadTest, ReloadWithABrokenKeyThrowsAndTheOldCertificateKeepsServing) {
  start(live_options());
  auto c = client(tls_client());
  ASSERT_EQ(c.call(test_app::add, 1, NumberInput{1}), 2);
  {
    std::ofstream garbage(certs().scratch("garbage.key"));
    garbage << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  }
  replace_file(certs().scratch("garbage.key"), live_key);
  try {
    server.reload_tls();
    ADD_FAILURE() << "reload_tls() accepted a broken key";
  } catch (const greenrpc::TlsError& e) {
    EXPECT_EQ(reason_name(e.reason()), "configuration");
    EXPECT_NE(std::string(e.what()).find(live_key), std::string::npos) << "the message should name the key: " << e.what();
  }
  EXPECT_EQ(c.call(test_app::add, 2, NumberInput{2}), 4) << "the open connection";
  EXPECT_EQ(outcome_pinned_to(server.port(), "server"), "ok") << "new connections lost the old certificate";
  // A well-formed key that is not the certificate's: refused too.
  replace_file(certs().pem("server2"), live_cert);
  replace_file(certs().key("server"), live_key);
  try {
    server.reload_tls();
    ADD_FAILURE() << "reload_tls() accepted a key that does not match the certificate";
  } catch (const greenrpc::TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("match"), std::string::npos) << "mismatch, or does not match: " << e.what();
    EXPECT_NE(std::string(e.what()).find(live_key), std::string::npos) << "name the key: " << e.what();
  }
  EXPECT_EQ(outcome_pinned_to(server.port(), "server"), "ok");
  // Fixed: the reload takes.
  replace_file(certs().key("server2"), live_key);
  EXPECT_EQ(outcome_of([&] { server.reload_tls(); }), "ok");
  EXPECT_EQ(outcome_pinned_to(server.port(), "server2"), "ok");
  EXPECT_EQ(c.call(test_app::add, 3, NumberInput{3}), 6) << "the connection opened before both reloads";
}

// ---- the TLS session's life on the wire ---------------------------------------------------------

// TLS 1.3 key updates asked by the client, each requesting one back (OpenSSL sends the server's
// KeyUpdate with its next write, ahead of the reply under the new key), on a live connection and
// on a dormant one (INFO counts it dormant before its key update).
// Breaks when: the server's KeyUpdate is lost or follows data under its new key (the client
// cannot decrypt: no PONG), a key update ends the connection, or a connection that went through
// key updates never goes dormant.
TEST_F(TlsServerTest, ClientKeyUpdatesAreAnsweredAndTheConnectionGoesOn) {
  start(tls_server());
  RawTlsClient peer(server.port(), certs().pem("ca"));
  ASSERT_EQ(peer.handshake(), "");
  ASSERT_EQ(peer.version(), "TLSv1.3");
  auto helper = client(tls_client());  // busy running INFO: not counted as dormant
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  ASSERT_EQ(peer.call(ping), "+PONG\r\n");
  for (int i = 0; i < 5; ++i) {
    if (i == 3) {  // after three key updates: the connection goes dormant, and the next one wakes it
      long long dormant = -1;
      ASSERT_TRUE(wait_until([&] { return (dormant = info_field(helper, "greenrpc_dormant_clients")) == 1; }, 2s))
          << "greenrpc_dormant_clients: " << dormant;
    }
    ASSERT_EQ(SSL_key_update(peer.ssl(), SSL_KEY_UPDATE_REQUESTED), 1);
    EXPECT_EQ(peer.call(ping), "+PONG\r\n") << "after key update " << i;
  }
}

// Breaks when: a stop closes TLS connections without close_notify (a client cannot tell an
// orderly close from a truncation).
// A TLS 1.2 client (OpenSSL's own): served, unless tls.min_version asks for 1.3.
// Breaks when: the server's TLS 1.2 path fails, or min_version is not applied.
TEST_F(TlsServerTest, Tls12ClientsAreServedUnlessMinVersionIsTls13) {
  start(tls_server());
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  {
    RawTlsClient peer(server.port(), certs().pem("ca"), 5000, /*tls12_only=*/true);
    ASSERT_EQ(peer.handshake(), "");
    EXPECT_EQ(peer.version(), "TLSv1.2");
    EXPECT_EQ(peer.call(ping), "+PONG\r\n");
    EXPECT_EQ(peer.call("*1\r\n$11\r\ntls_version\r\n"), "$8\r\n\xa7TLSv1.2\r\n");
    // A renegotiation asked by the client is refused (no renegotiation: SSL_OP_NO_RENEGOTIATION).
    // The server's no_renegotiation alert is produced inside its read, with nothing to write
    // after it: it must go out all the same, or the client waits for an answer to its
    // ClientHello until its own timeout (5 s here).
    ASSERT_EQ(SSL_renegotiate(peer.ssl()), 1);
    const auto t0 = Clock::now();
    ERR_clear_error();
    const int ret = SSL_do_handshake(peer.ssl());
    const std::string why = openssl_errors();
    EXPECT_NE(ret, 1) << "the server renegotiated";
    EXPECT_LT(ms_since(t0), 2000) << "the refusal of the renegotiation never came: " << why;
    EXPECT_NE(why.find("no renegotiation"), std::string::npos) << why;
  }
  auto c = client(tls_client());
  EXPECT_EQ(c.call(test_app::add, 1, NumberInput{1}), 2) << "the server after the renegotiation attempt";
  server.stop();
  auto o = tls_server();
  o.tls.min_version = greenrpc::TlsVersion::tls1_3;
  start(o);
  RawTlsClient old(server.port(), certs().pem("ca"), 5000, /*tls12_only=*/true);
  EXPECT_NE(old.handshake(), "") << "a TLS 1.2 client passed min_version 1.3";
}

// Both a connection that just answered and a dormant one.
TEST_F(TlsServerTest, StopEndsTlsConnectionsWithCloseNotify) {
  start(tls_server());
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  RawTlsClient dormant(server.port(), certs().pem("ca"));
  ASSERT_EQ(dormant.handshake(), "");
  ASSERT_EQ(dormant.call(ping), "+PONG\r\n");
  RawTlsClient active(server.port(), certs().pem("ca"));
  ASSERT_EQ(active.handshake(), "");
  auto info = [&] { return active.call("*1\r\n$4\r\nINFO\r\n"); };
  EXPECT_TRUE(wait_until([&] { return info().find("greenrpc_dormant_clients:1\r\n") != std::string::npos; }, 2s))
      << info();
  server.stop();
  EXPECT_EQ(dormant.read_end(), "close_notify") << "the dormant connection";
  EXPECT_EQ(active.read_end(), "close_notify") << "the active connection";
}

// Handshakes in progress hold no request: a stop closes them at once rather than waiting for
// their handshake deadline (10 s here) or the grace period.
// Breaks when: a connection mid-handshake keeps the stop waiting.
TEST_F(TlsServerTest, StopDoesNotWaitForHandshakesInProgress) {
  auto o = tls_server();
  o.tls.handshake_timeout = 10s;
  o.grace_period = 5s;
  start(o);
  RawSocket silent(server.port(), 5000);
  RawSocket partial(server.port(), 5000);
  partial.send(std::string_view("\x16\x03\x01\x02\x00", 5));
  ASSERT_TRUE(wait_until([&] { return server.connections() == 2; }, 2s));
  const auto t0 = Clock::now();
  server.stop();
  const long long stop_ms = ms_since(t0);
  EXPECT_LT(stop_ms, 2000) << "stop() waited for connections mid-handshake";
  auto ends = await_ends({silent.fd(), partial.fd()}, t0, 1000ms);
  EXPECT_TRUE(ends[0].how == "eof" || ends[0].how == "reset") << ends[0].how;
  EXPECT_TRUE(ends[1].how == "eof" || ends[1].how == "reset") << ends[1].how;
}

// ---- 9. idle TLS connections go dormant ---------------------------------------------------------

// Breaks when: an idle TLS connection keeps its fiber (the TLS stream reports buffered bytes it
// does not have, or the handshake leaves state that keeps it awake), or a dormant TLS
// connection is not woken by its next request.
TEST_F(TlsServerTest, IdleTlsConnectionsGoDormantAndStillAnswer) {
  test_app::raise_fd_limit();
  start(tls_server());  // release_idle_fibers: the default
  constexpr int kConns = 200;
  greenrpc::EventLoopThread loop;  // outlives the clients
  std::vector<std::unique_ptr<greenrpc::Client>> clients;
  for (int i = 0; i < kConns; ++i)
    clients.push_back(std::make_unique<greenrpc::Client>("127.0.0.1", server.port(), tls_client(), loop));
  auto call_all = [&](int round) {
    std::vector<greenrpc::Future<int>> calls;
    for (int i = 0; i < kConns; ++i) calls.push_back(clients[i]->call_async(test_app::add, i, NumberInput{round}));
    int right = 0;
    for (int i = 0; i < kConns; ++i) {
      if (!calls[i].wait_for(10s)) continue;
      right += outcome_of([&] {
                 if (calls[i].get() != i + round) throw std::runtime_error("wrong sum");
               }) == "ok";
    }
    return right;
  };
  ASSERT_EQ(call_all(1), kConns);
  auto helper = client(tls_client());  // busy running INFO: not counted as dormant
  long long seen = -1;
  const auto t0 = Clock::now();
  EXPECT_TRUE(wait_until([&] { return (seen = info_field(helper, "greenrpc_dormant_clients")) == kConns; }, 5s))
      << "greenrpc_dormant_clients: " << seen << ", expected " << kConns;
  std::cout << "[ timing ] " << kConns << " TLS connections dormant " << ms_since(t0) << " ms after their calls\n";
  EXPECT_EQ(info_field(helper, "connected_clients"), kConns + 1);
  EXPECT_EQ(call_all(2), kConns) << "dormant TLS connections not all served";
  EXPECT_TRUE(wait_until([&] { return (seen = info_field(helper, "greenrpc_dormant_clients")) == kConns; }, 5s))
      << "after the second round: " << seen;
  EXPECT_EQ(server.connections_accepted(), static_cast<std::uint64_t>(kConns + 1)) << "clients reconnected";
  clients.clear();
}

// The same on a sniffed port (accept_plaintext), TLS and plaintext connections side by side.
// Breaks when: a TLS stream over a sniffed stream (first bytes given back) never reports idle.
TEST_F(TlsServerTest, IdleConnectionsGoDormantOnASniffedPortTlsAndPlaintextAlike) {
  test_app::raise_fd_limit();
  auto o = tls_server();
  o.tls.accept_plaintext = true;
  start(o);
  constexpr int kEach = 50;
  greenrpc::EventLoopThread loop;  // outlives the clients
  std::vector<std::unique_ptr<greenrpc::Client>> clients;
  for (int i = 0; i < 2 * kEach; ++i)
    clients.push_back(std::make_unique<greenrpc::Client>("127.0.0.1", server.port(),
                                                         i % 2 ? tls_client() : greenrpc::ClientOptions{}, loop));
  auto call_all = [&](int round) {
    std::vector<greenrpc::Future<std::string>> calls;
    for (auto& c : clients) calls.push_back(c->call_async<std::string>("tls_version"));
    int right = 0;
    for (int i = 0; i < 2 * kEach; ++i) {
      if (!calls[i].wait_for(10s)) continue;
      std::string v;
      if (outcome_of([&] { v = calls[i].get(); }) == "ok" && v == (i % 2 ? "TLSv1.3" : "none")) ++right;
    }
    (void)round;
    return right;
  };
  ASSERT_EQ(call_all(1), 2 * kEach);
  auto helper = client(tls_client());
  long long seen = -1;
  EXPECT_TRUE(wait_until([&] { return (seen = info_field(helper, "greenrpc_dormant_clients")) == 2 * kEach; }, 5s))
      << "greenrpc_dormant_clients: " << seen << ", expected " << 2 * kEach;
  EXPECT_EQ(call_all(2), 2 * kEach);
  clients.clear();
}
