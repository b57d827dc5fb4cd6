// arrpc over TLS (App::message_handler): inside TLS the protocol is chosen on the first decrypted
// bytes, so arrpc and RESP share the TLS port; with tls.accept_plaintext the same port takes both
// in the clear too; with tls.port the plaintext port takes both. The peers are OpenSSL's blocking
// API by hand (raw_tls.hpp), not greenrpc's client.
#include <gtest/gtest.h>

#include <tuple>

#include "../support/arrpc_peer.hpp"
#include "raw_tls.hpp"
#include "tls_test_support.hpp"

using namespace tls_test;
using test_support::ArrpcPeer;
using test_support::msgpack_bytes;
using test_support::MsgpackValues;

namespace {

using Strings = std::map<std::string, std::string>;
using Reply = std::tuple<Strings, std::string>;  // [the message, the TLS version]

// Echoes the message with the TLS version it came over ("none" in the clear).
greenrpc::App echo_app() {
  greenrpc::App app;
  app.message_handler([](msgpack::object message, const greenrpc::RequestContext& context) {
    return std::make_tuple(message, context.tls() ? context.tls()->version : std::string("none"));
  });
  return app;
}

// One arrpc exchange over a raw TLS connection: the reply as [message, tls version].
struct TlsArrpc {
  explicit TlsArrpc(std::uint16_t port, const std::string& ca = certs().pem("ca")) : tls(port, ca) {}
  std::string handshake() { return tls.handshake(); }
  std::optional<msgpack::object_handle> read() {
    return values.next([this](char* buf, std::size_t cap) -> long {
      std::size_t n = 0;
      return SSL_read_ex(tls.ssl(), buf, cap, &n) == 1 ? static_cast<long>(n) : -1;
    });
  }
  std::tuple<Strings, std::string> call(const Strings& message) {
    if (!tls.write(msgpack_bytes(message))) throw std::runtime_error("TLS write failed");
    auto reply = read();
    if (!reply) throw std::runtime_error("no reply over TLS");
    return reply->get().as<std::tuple<Strings, std::string>>();
  }
  RawTlsClient tls;
  MsgpackValues values;
};

const Strings kHello{{"foo", "bar"}};

// The TLS port serves arrpc and RESP, chosen inside TLS. Breaks when the TLS protocol's inner
// factory is RESP alone (arrpc's first byte would be read as an inline command), or when the
// sniffer reads before the handshake (TlsStream asserts) or runs it twice.
TEST(TlsArrpc, TheTlsPortServesArrpcAndResp) {
  greenrpc::App app = echo_app();
  greenrpc::Server server = app.start_background(tls_server());
  TlsArrpc a(server.port());
  ASSERT_EQ(a.handshake(), "");
  EXPECT_EQ(a.call(kHello), std::make_tuple(kHello, std::string("TLSv1.3")));
  // Two messages in one TLS write, a large one (many records) after them.
  ASSERT_TRUE(a.tls.write(msgpack_bytes(Strings{{"n", "1"}}) + msgpack_bytes(Strings{{"n", "2"}})));
  EXPECT_EQ(std::get<0>(a.read()->get().as<std::tuple<Strings, std::string>>()), (Strings{{"n", "1"}}));
  EXPECT_EQ(std::get<0>(a.read()->get().as<std::tuple<Strings, std::string>>()), (Strings{{"n", "2"}}));
  const Strings big{{"big", std::string(200000, 'b')}};
  EXPECT_EQ(std::get<0>(a.call(big)), big);

  RawTlsClient resp(server.port(), certs().pem("ca"));
  ASSERT_EQ(resp.handshake(), "");
  EXPECT_EQ(resp.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");

  // arrpc in the clear on the TLS-only port: arrpc's refusal (its first byte chose), then the close.
  ArrpcPeer plain(server.port());
  plain.send_value(kHello);
  EXPECT_EQ(plain.read_string(), "arrpc.error.RpcException: this port requires TLS");
  EXPECT_TRUE(plain.closes());
  // RESP in the clear: RESP's.
  {
    ArrpcPeer resp_plain(server.port());  // a plain socket: RESP bytes through it
    const std::string ping = "*1\r\n$4\r\nPING\r\n";
    ASSERT_EQ(::send(resp_plain.fd(), ping.data(), ping.size(), MSG_NOSIGNAL), static_cast<ssize_t>(ping.size()));
    char buf[256];
    const ssize_t n = ::recv(resp_plain.fd(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "-ERR this port requires TLS (redis-cli: --tls --cacert <file>)\r\n");
  }

  // A client that does not trust the server fails its handshake; the port serves on.
  TlsArrpc rogue(server.port(), certs().pem("other_ca"));
  EXPECT_NE(rogue.handshake(), "");
  TlsArrpc again(server.port());
  ASSERT_EQ(again.handshake(), "");
  EXPECT_EQ(again.call(kHello), std::make_tuple(kHello, std::string("TLSv1.3")));
}

// arrpc and RESP in the clear on `port`, each answered.
void expect_plaintext_arrpc_and_resp(std::uint16_t port) {
  ArrpcPeer plain(port);
  EXPECT_EQ(plain.call<Reply>(kHello), std::make_tuple(kHello, std::string("none")));
  test_support::RawSocket plain_resp(port);
  EXPECT_EQ(plain_resp.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
}

// arrpc over TLS on `port`, answered with the handshake's TLS version.
void expect_arrpc_over_tls(std::uint16_t port) {
  TlsArrpc secure(port);
  ASSERT_EQ(secure.handshake(), "");
  EXPECT_EQ(secure.call(kHello), std::make_tuple(kHello, std::string("TLSv1.3")));
}

// accept_plaintext: one port, four ways in. Breaks when the outer sniffer lists RESP alone beside
// TLS (plaintext arrpc would be refused).
TEST(TlsArrpc, AcceptPlaintextTakesArrpcAndRespWithAndWithoutTls) {
  greenrpc::App app = echo_app();
  greenrpc::ServerOptions o = tls_server();
  o.tls.accept_plaintext = true;
  greenrpc::Server server = app.start_background(o);

  expect_arrpc_over_tls(server.port());
  RawTlsClient secure_resp(server.port(), certs().pem("ca"));
  ASSERT_EQ(secure_resp.handshake(), "");
  EXPECT_EQ(secure_resp.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
  expect_plaintext_arrpc_and_resp(server.port());
}

// tls.port: the plaintext port and the TLS port each serve both protocols.
TEST(TlsArrpc, ASeparateTlsPortAndThePlaintextPortServeBoth) {
  greenrpc::App app = echo_app();
  greenrpc::ServerOptions o = tls_server();
  o.tls.port = 0;
  greenrpc::Server server = app.start_background(o);
  ASSERT_NE(server.tls_port(), server.port());
  expect_plaintext_arrpc_and_resp(server.port());
  expect_arrpc_over_tls(server.tls_port());
}

// The handshake the sniffer runs inside TLS keeps TLS's deadline (counted from accept): a peer
// that starts a ClientHello and stops is closed at handshake_timeout, not at the sniffer's
// first-byte wait (idle_timeout, 5 minutes). Breaks when the sniffer reads or waits on the stream
// before the handshake has run.
TEST(TlsArrpc, AStalledHandshakeIsClosedAtTheHandshakeTimeout) {
  greenrpc::App app = echo_app();
  greenrpc::ServerOptions o = tls_server();
  o.tls.handshake_timeout = 300ms;
  greenrpc::Server server = app.start_background(o);
  ArrpcPeer stalled(server.port(), 5000);
  const auto start = Clock::now();
  stalled.send(std::string_view("\x16\x03\x01\x00\x80\x01", 6));  // a record promising 128 bytes
  EXPECT_TRUE(stalled.closes());
  EXPECT_GE(ms_since(start), 250);
  EXPECT_LT(ms_since(start), 3000);
  TlsArrpc fine(server.port());
  ASSERT_EQ(fine.handshake(), "");
  EXPECT_EQ(std::get<1>(fine.call(kHello)), "TLSv1.3");
}

// A TLS connection that completed its handshake and sent nothing yet (a pooled client's) holds
// no fiber, as a plaintext one does: the sniffer inside TLS waits for its first bytes dormant,
// and then serves them. Breaks when the sniffer parks in a read after the handshake.
TEST(TlsArrpc, HandshakenButSilentConnectionsHoldNoFiber) {
  greenrpc::App app = echo_app();
  greenrpc::ServerOptions o = tls_server();
  o.idle_fiber_linger = 0ms;
  greenrpc::Server server = app.start_background(o);
  std::vector<std::unique_ptr<TlsArrpc>> silent;
  for (int i = 0; i < 10; ++i) {
    silent.push_back(std::make_unique<TlsArrpc>(server.port()));
    ASSERT_EQ(silent.back()->handshake(), "");
  }
  RawTlsClient info(server.port(), certs().pem("ca"));
  ASSERT_EQ(info.handshake(), "");
  auto dormant = [&] {
    const std::string text = info.call("*1\r\n$4\r\nINFO\r\n");
    const auto at = text.find("greenrpc_dormant_clients:");
    return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 25);
  };
  EXPECT_TRUE(wait_until([&] { return dormant() >= 10; }, 3s)) << dormant();
  // Woken by their first message, over TLS, each is served.
  for (auto& c : silent) EXPECT_EQ(c->call(kHello), std::make_tuple(kHello, std::string("TLSv1.3")));
}

}  // namespace
