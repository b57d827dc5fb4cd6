// TLS verification, end to end (a greenrpc Client against an in-process Server, on 127.0.0.1):
// what a handler sees of the session, and each way a client refuses a server (or is refused)
// surfacing as its own TlsError reason, at once and without retries. Also a plaintext client on
// a TLS port and a TLS client on a plaintext port: a clear error each, never a hang.
//
// Each test says in a comment what breaking it takes. Certificates: tests/support/test_certificates.hpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <stdexcept>

#include "raw_tls.hpp"
#include "tls_test_support.hpp"

using namespace tls_test;
using R = greenrpc::TlsError::Reason;

namespace {

class TlsVerifyTest : public TlsServerTest {
 protected:
  // One call through a fresh client: the TlsError it must fail with, checked for reason, text,
  // speed and the absence of retries (one connection accepted by the server).
  void expect_refusal(greenrpc::ClientOptions opts, R reason, const std::string& says) {
    const auto accepted_before = server.connections_accepted();
    const auto t0 = Clock::now();
    std::string what;
    R got = R::configuration;
    std::string other;
    {
      greenrpc::Client c("127.0.0.1", tls_port(), opts);
      try {
        c.call(test_app::add, 1, NumberInput{2});
        other = "the call succeeded";
      } catch (const greenrpc::TlsError& e) {
        got = e.reason();
        what = e.what();
      } catch (const std::exception& e) {
        other = std::string("not a TlsError: ") + e.what();
      }
    }
    const long long elapsed = ms_since(t0);
    ASSERT_EQ(other, "");
    EXPECT_EQ(reason_name(got), reason_name(reason)) << what;
    EXPECT_NE(what.find(says), std::string::npos) << "the message should say \"" << says << "\": " << what;
    EXPECT_NE(what.find("TLS"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(tls_port())), std::string::npos)
        << "the message should name the server: " << what;
    // A refusal is final: no back-off, no second connection (connect_retries is 3).
    EXPECT_LT(elapsed, opts.connect_timeout.count()) << "a TLS refusal took " << elapsed << " ms: " << what;
    EXPECT_TRUE(wait_until([&] { return server.connections_accepted() >= accepted_before + 1; }, 1s));
    std::this_thread::sleep_for(50ms);  // a retry, if any, would have connected by now
    EXPECT_EQ(server.connections_accepted(), accepted_before + 1) << "the refused connection was retried";
    EXPECT_EQ(counters.calls.load(), 0) << "a command ran over a refused connection";
  }
};

}  // namespace

// ---- 1. what a verified session looks like ----------------------------------------------------

// Breaks when: the client cannot verify a CA-issued certificate by its IP SAN or by server_name,
// the typed result is wrong over TLS, RequestContext::tls() is null over TLS, or the SNI the
// client sent is not what the server reports.
TEST_F(TlsVerifyTest, CaVerifiedClientCallsAndTheHandlerSeesTheSession) {
  start(tls_server());
  EXPECT_EQ(server.tls_port(), server.port()) << "without tls.port, TLS is served on `port`";
  auto c = client(tls_client());  // verifies the IP 127.0.0.1 against the IP SAN
  EXPECT_EQ(c.call(test_app::add, 40, NumberInput{2}), 42);
  EXPECT_EQ(c.call<std::string>("tls_version"), "TLSv1.3");
  EXPECT_EQ(c.call<std::string>("tls_sni"), "") << "no SNI is sent for an IP address";
  EXPECT_EQ(c.call<std::string>("peer_cn"), "none") << "the client sent no certificate";
  EXPECT_EQ(c.ping(), "PONG");

  auto opts = tls_client();
  opts.tls.server_name = "localhost";  // verified against the DNS SAN and sent as SNI
  auto named = client(opts);
  EXPECT_EQ(named.call(test_app::add, 1, NumberInput{1}), 2);
  EXPECT_EQ(named.call<std::string>("tls_sni"), "localhost");
  EXPECT_EQ(counters.calls.load(), 2);
}

// Breaks when: the server does not ask for or verify the client's certificate, or
// RequestContext::peer_certificate() does not carry its CN and URI SAN.
TEST_F(TlsVerifyTest, MutualTlsHandlerSeesTheClientCertificate) {
  auto o = tls_server();
  o.tls.ca_file = certs().pem("ca");
  o.tls.require_client_cert = true;
  start(o);
  auto opts = tls_client();
  opts.tls.cert_file = certs().pem("client");
  opts.tls.key_file = certs().key("client");
  auto c = client(opts);
  EXPECT_EQ(c.call<std::string>("peer_cn"), "alice");
  EXPECT_EQ(c.call<std::vector<std::string>>("peer_uris"), std::vector<std::string>{"spiffe://test/alice"});
  EXPECT_EQ(c.call<std::string>("tls_version"), "TLSv1.3");
  EXPECT_EQ(c.call<std::string>("peer_issuer"), "CN=greenrpc test CA,O=greenrpc tests");
  EXPECT_EQ(c.call<std::string>("peer_fingerprint"), file_fingerprint(certs().pem("client")));
  const long days_left = c.call<long>("peer_days_left");
  EXPECT_TRUE(days_left >= 28 && days_left <= 30) << "not_after: " << days_left << " days from now (made for 30)";
  EXPECT_EQ(c.call(test_app::add, 2, NumberInput{3}), 5);
}

// A server certificate file with the chain (leaf, then an intermediate CA) and a client that
// trusts only the root.
// Breaks when: the server sends only the leaf (the client cannot build the chain: unknown_ca).
TEST_F(TlsVerifyTest, ServerChainThroughAnIntermediateCaVerifiesAgainstTheRoot) {
  start(tls_server("chained"));
  auto c = client(tls_client());
  EXPECT_EQ(c.call(test_app::add, 1, NumberInput{2}), 3);
}

// Breaks when: with a ca_file but require_client_cert off, a client without a certificate is
// refused, or one with a certificate is not reported.
TEST_F(TlsVerifyTest, OptionalClientCertificateIsReportedWhenSent) {
  auto o = tls_server();
  o.tls.ca_file = certs().pem("ca");
  start(o);
  auto anonymous = client(tls_client());
  EXPECT_EQ(anonymous.call<std::string>("peer_cn"), "none");
  auto opts = tls_client();
  opts.tls.cert_file = certs().pem("client");
  opts.tls.key_file = certs().key("client");
  auto alice = client(opts);
  EXPECT_EQ(alice.call<std::string>("peer_cn"), "alice");
}

// ---- 2. each refusal is its own reason, at once, not retried -----------------------------------

// Breaks when: a chain from another CA is accepted, reported as another reason, or retried.
TEST_F(TlsVerifyTest, ServerCertificateFromAnotherCaIsUnknownCa) {
  start(tls_server("other_server"));
  expect_refusal(tls_client(), R::unknown_ca, "not issued by a trusted CA");
}

// Breaks when: a certificate for other.example passes for "localhost" (SNI/host check off).
TEST_F(TlsVerifyTest, CertificateForAnotherHostNameIsWrongHost) {
  start(tls_server("wrong_host"));
  auto opts = tls_client();
  opts.tls.server_name = "localhost";
  expect_refusal(opts, R::wrong_host, "not for \"localhost\"");
}

// Breaks when: connecting by IP checks no IP SAN (the certificate has none for 127.0.0.1).
TEST_F(TlsVerifyTest, CertificateWithoutTheIpConnectedToIsWrongHost) {
  start(tls_server("wrong_host"));
  expect_refusal(tls_client(), R::wrong_host, "not for \"127.0.0.1\"");
}

// Breaks when: the validity dates are not checked, or an expired certificate is reported as an
// unknown CA.
TEST_F(TlsVerifyTest, ExpiredServerCertificateIsExpired) {
  start(tls_server("expired"));
  expect_refusal(tls_client(), R::expired, "expired");
}

// TLS 1.3: the client's handshake completes before the server checks the client's (absent)
// certificate; the server's "certificate required" alert arrives on the first read.
// Breaks when: that alert is read as a lost connection (ConnectionLostError), the call hangs,
// the client keeps reconnecting, or the race between the request's write and the alert loses
// it. Repeated, because the race differs from run to run.
TEST_F(TlsVerifyTest, NoClientCertificateWhereOneIsRequiredIsClientCertRequired) {
  auto o = tls_server();
  o.tls.ca_file = certs().pem("ca");
  o.tls.require_client_cert = true;
  start(o);
  expect_refusal(tls_client(), R::client_cert_required, "requires a client certificate");
  // Again with calls pipelined behind the first: each fails the same way, none hangs.
  for (int round = 0; round < 10; ++round) {
    greenrpc::Client c("127.0.0.1", tls_port(), tls_client());
    std::vector<greenrpc::Future<int>> calls;
    for (int i = 0; i < 5; ++i) calls.push_back(c.call_async(greenrpc::CallOptions{}, test_app::add, i, NumberInput{1}));
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(calls[i].wait_for(3s)) << "round " << round << " call " << i << " hung";
      EXPECT_EQ(outcome_of([&] { calls[i].get(); }), "TlsError client_cert_required") << "round " << round << " call " << i;
    }
  }
  EXPECT_EQ(counters.calls.load(), 0);
}

// The same when the refusal lands in the client's own connection setup: with signing on, its
// NONCE goes out right after the handshake and the alert answers it.
// Breaks when: a refusal read during connection setup is reported as a connect failure (and
// retried) or as a bad NONCE reply.
TEST_F(TlsVerifyTest, NoClientCertificateWhereOneIsRequiredIsClientCertRequiredWhenSigning) {
  auto o = tls_server();
  o.tls.ca_file = certs().pem("ca");
  o.tls.require_client_cert = true;
  o.auth_secret = "s3cret";
  start(o);
  auto opts = tls_client();
  opts.auth_secret = "s3cret";
  expect_refusal(opts, R::client_cert_required, "requires a client certificate");
}

// Breaks when: a client certificate from no trusted CA is accepted, or the client cannot tell
// that the server refused its certificate (TLS 1.3: after its own handshake completed).
TEST_F(TlsVerifyTest, ClientCertificateTheServerDoesNotTrustIsPeerCertRejected) {
  auto o = tls_server();
  o.tls.ca_file = certs().pem("ca");
  o.tls.require_client_cert = true;
  start(o);
  auto opts = tls_client();
  opts.tls.cert_file = certs().pem("self_signed");
  opts.tls.key_file = certs().key("self_signed");
  expect_refusal(opts, R::peer_cert_rejected, "refused this client's certificate");
}

// Breaks when: a pinned certificate is not accepted on its own (no CA, name not checked), or
// a pin of a CA-issued leaf is refused.
TEST_F(TlsVerifyTest, PinnedSelfSignedCertificateIsAccepted) {
  start(tls_server("self_signed"));
  greenrpc::ClientOptions opts = tls_client();
  opts.tls.ca_file.clear();
  opts.tls.pinned_cert_file = certs().pem("self_signed");
  auto c = client(opts);
  EXPECT_EQ(c.call(test_app::add, 20, NumberInput{22}), 42);
  EXPECT_EQ(c.call<std::string>("tls_version"), "TLSv1.3");
  // A self-signed certificate without the pin is not trusted.
  server.stop();
  counters.calls = 0;
  start(tls_server("self_signed"));
  expect_refusal(tls_client(), R::unknown_ca, "not issued by a trusted CA");
}

// Breaks when: any certificate is accepted under a pin (the pin is not compared), or the
// refusal does not say it was the pin.
TEST_F(TlsVerifyTest, ADifferentPinnedCertificateIsRefused) {
  start(tls_server("self_signed"));
  greenrpc::ClientOptions opts = tls_client();
  opts.tls.ca_file.clear();
  opts.tls.pinned_cert_file = certs().pem("self_signed2");
  expect_refusal(opts, R::unknown_ca, "not the pinned one");
  // The CA-signed server: its pin is accepted, another CA-signed leaf's pin is not.
  server.stop();
  start(tls_server("server"));
  opts.tls.pinned_cert_file = certs().pem("server");
  auto c = client(opts);
  EXPECT_EQ(c.call(test_app::add, 1, NumberInput{2}), 3);
  counters.calls = 0;
  opts.tls.pinned_cert_file = certs().pem("server2");
  expect_refusal(opts, R::unknown_ca, "not the pinned one");
}

// Breaks when: an unreadable CA, certificate or key file is only noticed at the first connect.
TEST(TlsConfiguration, BadFilesFailAtConstructionWithConfiguration) {
  auto missing = tls_client();
  missing.tls.ca_file = certs().dir() + "/no-such-ca.pem";
  EXPECT_EQ(outcome_of([&] { greenrpc::Client c("127.0.0.1", 1, missing); }), "TlsError configuration");
  auto mismatched = tls_client();
  mismatched.tls.cert_file = certs().pem("client");
  mismatched.tls.key_file = certs().key("server");
  EXPECT_EQ(outcome_of([&] { greenrpc::Client c("127.0.0.1", 1, mismatched); }), "TlsError configuration");
  greenrpc::App app;
  auto o = tls_server();
  o.tls.key_file = certs().key("server2");  // not server.pem's key
  try {
    greenrpc::Server s = app.start_background(o);
    ADD_FAILURE() << "a server started with a key that does not match its certificate";
  } catch (const greenrpc::TlsError& e) {
    EXPECT_EQ(reason_name(e.reason()), "configuration");
    EXPECT_NE(std::string(e.what()).find("match"), std::string::npos) << "mismatch, or does not match: " << e.what();
    EXPECT_NE(std::string(e.what()).find(certs().key("server2")), std::string::npos) << "name the key: " << e.what();
  }
}

// Two listeners cannot share a port: tls.port equal to port is a mistake in the options (TLS
// on the server's one port is tls.port unset), said at start.
// Breaks when: the server starts anyway (one of the two listeners silently takes the other's
// connections, or binds twice with SO_REUSEPORT), or fails with a bind error that names no option.
TEST(TlsConfiguration, TlsPortEqualToPortIsRefusedAtStart) {
  std::uint16_t free_port = 0;
  ::close(test_support::listen_loopback(free_port));
  greenrpc::App app;
  auto o = tls_server();
  o.port = free_port;
  o.tls.port = free_port;
  try {
    greenrpc::Server s = app.start_background(o);
    ADD_FAILURE() << "a server started with tls.port == port (" << free_port << ")";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tls.port"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not std::invalid_argument: " << e.what();
  }
}

// A client with verification on has a name to check the server's certificate against: the host,
// or tls.server_name. An empty host ("" connects to the local host) without a server_name leaves
// none, which would accept any certificate the CA ever issued: refused, as a configuration error.
// Breaks when: the empty host connects and calls with no host-name check (the call succeeds).
TEST_F(TlsVerifyTest, AnEmptyHostWithVerificationOnIsAConfigurationError) {
  start(tls_server());
  std::string stage = "the Client's construction";
  std::string what;
  const std::string outcome = outcome_of([&] {
    try {
      greenrpc::Client c("", tls_port(), tls_client());
      stage = "the first call";
      c.call(test_app::add, 1, NumberInput{1});
      stage = "nowhere: the call succeeded";
    } catch (const std::exception& e) {
      what = e.what();
      throw;
    }
  });
  std::cout << "[ empty host ] " << outcome << " at " << stage << ": " << what << "\n";
  EXPECT_EQ(outcome, "TlsError configuration") << "at " << stage << ": " << what;
  EXPECT_NE(what.find("host name"), std::string::npos) << what;
  EXPECT_EQ(counters.calls.load(), 0);
  // With a name to verify, the same empty host is fine.
  auto named = tls_client();
  named.tls.server_name = "localhost";
  greenrpc::Client c("", tls_port(), named);
  EXPECT_EQ(outcome_of([&] { c.call(test_app::add, 1, NumberInput{1}); }), "ok");
}

// ---- 3. plaintext meets TLS ---------------------------------------------------------------------

// Breaks when: a plaintext request on a TLS port is dropped silently (the client sees a lost
// connection or hangs) instead of the RESP error saying the port requires TLS.
TEST_F(TlsVerifyTest, PlaintextClientOnATlsPortIsToldItRequiresTls) {
  start(tls_server());
  greenrpc::ClientOptions plain;
  plain.connect_timeout = 2s;
  greenrpc::Client c("127.0.0.1", server.tls_port(), plain);
  const auto t0 = Clock::now();
  std::string what;
  try {
    c.call(test_app::add, 1, NumberInput{2});
    what = "the call succeeded";
  } catch (const greenrpc::RemoteError& e) {
    what = e.what();
  } catch (const std::exception& e) {
    what = std::string("not the server's error reply: ") + e.what();
  }
  EXPECT_NE(what.find("requires TLS"), std::string::npos) << what;
  EXPECT_LT(ms_since(t0), 2000);
  EXPECT_EQ(counters.calls.load(), 0);
}

// The same with signing on: the client's first request is NONCE, sent as it connects, and the
// server's answer to it is that error.
// Breaks when: the client reports it as something else (a server without signing support) and
// hides what the server said.
TEST_F(TlsVerifyTest, SigningPlaintextClientOnATlsPortIsToldItRequiresTlsToo) {
  auto o = tls_server();
  o.auth_secret = "s3cret";
  start(o);
  greenrpc::ClientOptions plain;
  plain.connect_timeout = 2s;
  plain.auth_secret = "s3cret";
  greenrpc::Client c("127.0.0.1", server.tls_port(), plain);
  std::string what;
  try {
    c.call(test_app::add, 1, NumberInput{2});
    what = "the call succeeded";
  } catch (const std::exception& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("requires TLS"), std::string::npos) << what;
  EXPECT_EQ(counters.calls.load(), 0);
}

// A TLS port over max_connections refuses before the handshake, in the clear (RESP's "-ERR max
// number of clients reached"): the TLS client cannot decrypt it, but must pass on what it said.
// Breaks when: the refusal hangs the client's handshake, or its text is lost.
TEST_F(TlsVerifyTest, TlsClientOverMaxConnectionsIsToldWhy) {
  auto o = tls_server();
  o.max_connections = 1;
  start(o);
  auto first = client(tls_client());
  ASSERT_EQ(first.call(test_app::add, 1, NumberInput{1}), 2);
  auto second = client(tls_client());
  const auto t0 = Clock::now();
  std::string what;
  try {
    second.call(test_app::add, 1, NumberInput{1});
    what = "the call succeeded";
  } catch (const std::exception& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("max number of clients reached"), std::string::npos) << what;
  EXPECT_LT(ms_since(t0), 2000) << what;
  EXPECT_EQ(first.call(test_app::add, 2, NumberInput{2}), 4);
}

// Breaks when: the server waits for a RESP line end in a ClientHello (the client then times
// out) or the client reports the RESP error as something other than not_tls.
TEST_F(TlsVerifyTest, TlsClientOnAPlaintextPortFailsNotTlsAtOnce) {
  start(test_app::local_options());
  expect_refusal(tls_client(), R::not_tls, "did not answer in TLS");
}

// ---- peers other than a greenrpc server --------------------------------------------------------

// A TLS 1.2 server (OpenSSL's own, by hand): the greenrpc client speaks 1.2 too.
// Breaks when: the client insists on TLS 1.3, or mis-handles a 1.2 handshake.
TEST(TlsOtherPeers, ClientSpeaksTls12) {
  RawTlsServer peer(certs().pem("server"), certs().key("server"), /*tls12_only=*/true);
  greenrpc::Client c("127.0.0.1", peer.port(), tls_client());
  EXPECT_EQ(outcome_of([&] { EXPECT_EQ(c.ping(), "PONG"); }), "ok");
  ASSERT_TRUE(wait_until([&] { return !peer.outcomes().empty(); }, 2s));
  auto outcomes = peer.outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0], "ok TLSv1.2");
}

// TLS 1.2 refuses a missing client certificate inside the handshake, with a handshake_failure
// alert (not 1.3's certificate_required): the client must still say client_cert_required.
// Breaks when: that alert is reported as a generic protocol failure, or retried.
TEST(TlsOtherPeers, Tls12ServerRequiringAClientCertificateIsClientCertRequired) {
  RawTlsServer peer(certs().pem("server"), certs().key("server"), /*tls12_only=*/true, certs().pem("ca"));
  greenrpc::Client c("127.0.0.1", peer.port(), tls_client());
  std::string what;
  EXPECT_EQ(outcome_of([&] {
              try {
                c.ping();
              } catch (const std::exception& e) {
                what = e.what();
                throw;
              }
            }),
            "TlsError client_cert_required")
      << what;
  EXPECT_NE(what.find("requires a client certificate"), std::string::npos) << what;
  EXPECT_TRUE(wait_until([&] { return !peer.outcomes().empty(); }, 2s));
  std::this_thread::sleep_for(50ms);  // a retry, if any, would have connected by now
  EXPECT_EQ(peer.outcomes().size(), 1u) << "the refused handshake was retried";
}

// A server that accepts TCP and never answers the ClientHello: a connection failure, retried
// connect_retries times, each bounded by connect_timeout, then ConnectError — not a hang, and
// not a TlsError (nothing was refused).
// Breaks when: the client's handshake has no deadline, or a timed-out handshake is not retried.
TEST(TlsOtherPeers, ServerThatNeverAnswersTheClientHelloIsAConnectErrorAfterTheRetries) {
  std::uint16_t port = 0;
  const int listener = test_support::listen_loopback(port);
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::vector<int> held;  // the acceptor's until it is joined
  std::vector<std::thread> acceptor;
  JoinOnExit joiner{stop, acceptor};
  acceptor.emplace_back([&] {
    while (!stop) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) continue;
      held.push_back(fd);  // never answered
      ++accepted;
    }
  });
  auto opts = tls_client();
  opts.connect_timeout = 200ms;
  opts.connect_retries = 2;
  opts.retry_backoff = 10ms;
  greenrpc::Client c("127.0.0.1", port, opts);
  const auto t0 = Clock::now();
  std::string what;
  std::string got = outcome_of([&] {
    try {
      c.ping();
    } catch (const std::exception& e) {
      what = e.what();
      throw;
    }
  });
  const long long elapsed = ms_since(t0);
  wait_until([&] { return accepted.load() >= 2; }, 1s);
  std::this_thread::sleep_for(50ms);  // a third attempt, if any, would be accepted by now
  stop = true;
  acceptor[0].join();
  EXPECT_EQ(got, "ConnectError") << what;
  EXPECT_NE(what.find("handshake timed out"), std::string::npos) << what;
  EXPECT_GE(elapsed, 2 * 200 - 20) << "two attempts of 200 ms each";
  EXPECT_LT(elapsed, 2000) << what;
  EXPECT_EQ(held.size(), 2u) << "connect_retries = 2";
  for (int fd : held) ::close(fd);
  ::close(listener);
}

// A Client destroyed while its TLS handshake waits on a silent server: the wait is cancelled (the
// TLS stream passes the cancel to its transport), not run out to connect_timeout.
// Breaks when: TlsStream::cancel does not reach the transport, or the connector's cancel misses
// a handshake in progress.
TEST(TlsOtherPeers, ClientDestroyedDuringItsHandshakeReturnsPromptly) {
  std::uint16_t port = 0;
  const int listener = test_support::listen_loopback(port);  // never accepts: the kernel does
  auto opts = tls_client();
  opts.connect_timeout = 10s;
  greenrpc::Future<int> call;
  auto c = std::make_unique<greenrpc::Client>("127.0.0.1", port, opts);
  call = c->call_async(greenrpc::CallOptions{}, test_app::add, 1, NumberInput{1});
  std::this_thread::sleep_for(100ms);  // connected, handshake under way
  EXPECT_FALSE(call.ready());
  const auto t0 = Clock::now();
  c.reset();
  EXPECT_LT(ms_since(t0), 2000) << "the Client's destructor waited for the handshake's deadline";
  ASSERT_TRUE(call.wait_for(1s));
  EXPECT_EQ(outcome_of([&] { call.get(); }), "CancelledError");
  ::close(listener);
}
