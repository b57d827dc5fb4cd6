// arrpc's wire on an in-process server (App::message_handler): the handler's parameter kinds,
// error strings, the frame timeout, dormancy, the registration rules, and Server::stop()'s bound
// with arrpc connections open and handlers running. The Python suite (tests/integration/
// test_arrpc.py) covers the wire from outside: signing, framing, limits, TLS, metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <greenrpc/greenrpc.hpp>

#include "../support/arrpc_peer.hpp"
#include "../support/loopback.hpp"
#include "../support/server_fixture.hpp"

using namespace std::chrono_literals;
using test_support::ArrpcPeer;

namespace {

struct Point {
  int x = 0;
  int y = 0;
  MSGPACK_DEFINE_MAP(x, y);
};

greenrpc::ServerOptions options() {
  greenrpc::ServerOptions o;
  o.port = 0;
  o.idle_fiber_linger = 0ms;
  return o;
}

using Strings = std::map<std::string, std::string>;

TEST(Arrpc, AModelMessageIsDecodedAndValidated) {
  greenrpc::App app;
  app.message_handler([](Point p, const greenrpc::RequestContext& context) {
    if (context.command() != "arrpc.message") throw std::logic_error("wrong command name");
    return p.x + p.y;
  });
  greenrpc::Server server = app.start_background(options());
  ArrpcPeer peer(server.port());
  EXPECT_EQ(peer.call<int>(std::map<std::string, int>{{"x", 1}, {"y", 2}}), 3);
  peer.send_value(Strings{{"x", "one"}, {"y", "2"}});
  EXPECT_EQ(peer.read_string(),
            "arrpc.error.RpcException: invalid message: x: value is not a valid integer (type_error.integer)");
  peer.send_value(std::map<std::string, int>{{"x", 1}});
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: invalid message: y: field required (value_error.missing)");
  peer.send_value(std::vector<int>{1, 2});
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: invalid message: value is not a valid dict (type_error.dict)");
  // Every refusal left the connection open.
  EXPECT_EQ(peer.call<int>(std::map<std::string, int>{{"x", 40}, {"y", 2}}), 42);
}

TEST(Arrpc, ExceptionsReachTheClientAsRpcExceptionAndTheConnectionStays) {
  greenrpc::App app;
  app.message_handler([](const std::string& what) -> std::string {
    if (what == "rpc") throw greenrpc::RpcError("as arrpc's RpcException");
    if (what == "std") throw std::runtime_error("kaput");
    if (what == "code") throw greenrpc::CommandError("OUT_OF_STOCK", "no apples");
    if (what == "int") throw 7;
    return "fine: " + what;
  });
  greenrpc::Server server = app.start_background(options());
  ArrpcPeer peer(server.port());
  peer.send_value(std::string("rpc"));
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: as arrpc's RpcException");
  peer.send_value(std::string("std"));  // arrpc's own server drops the connection here
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: kaput");
  peer.send_value(std::string("code"));
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: OUT_OF_STOCK no apples");
  peer.send_value(std::string("int"));
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: unknown exception");
  peer.send_value(std::string("after"));
  EXPECT_EQ(peer.read_string(), "fine: after");
  // A message that is not the type at all: a validation error, as a string.
  peer.send_value(5);
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: invalid message: str type expected (type_error.str)");
}

TEST(Arrpc, ObjectsVoidResultsAndConnectionState) {
  greenrpc::App app;
  app.state_factory([] { return 0; });
  std::vector<std::string> seen;
  app.message_handler([&seen](msgpack::object message, greenrpc::ConnState<int> calls) {
    ++*calls;
    std::ostringstream text;
    text << message << " #" << *calls;
    seen.push_back(text.str());  // one worker: one thread
  });
  greenrpc::Server server = app.start_background(options());
  ArrpcPeer a(server.port()), b(server.port());
  for (ArrpcPeer* p : {&a, &b, &a}) {
    p->send_value(Strings{{"k", "v"}});
    auto reply = p->read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->get().type, msgpack::type::NIL);  // a void handler answers nil
  }
  EXPECT_EQ(seen, (std::vector<std::string>{R"({"k":"v"} #1)", R"({"k":"v"} #1)", R"({"k":"v"} #2)"}));
}

TEST(Arrpc, TheMessageHandlerIsSetOnceAndItsNameIsItsOwn) {
  greenrpc::App app;
  app.message_handler([](msgpack::object m) { return m; });
  EXPECT_THROW(app.message_handler([](msgpack::object m) { return m; }), std::logic_error);
  app.command("arrpc.message", [](int x) { return x; });
  EXPECT_THROW(app.start_background(options()), std::invalid_argument);
}

TEST(Arrpc, AnIncompleteMessageIsAnsweredAtTheFrameTimeoutAndClosed) {
  greenrpc::App app;
  app.message_handler([](msgpack::object m) { return m; });
  greenrpc::ServerOptions o = options();
  o.frame_timeout = 300ms;
  greenrpc::Server server = app.start_background(o);
  // A map begun, and a str32 declaring 60 MB (within the limit: awaited, not allocated).
  for (std::string_view partial : {std::string_view("\x82\xa1" "a", 3), std::string_view("\xdb\x03\x90\x00\x00xy", 7)}) {
    ArrpcPeer peer(server.port());
    const auto start = greenrpc::Clock::now();
    peer.send(partial);
    EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: request not completed within 300 ms of its first byte");
    const auto waited = greenrpc::Clock::now() - start;
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 3s);
    EXPECT_TRUE(peer.closes());
  }
  // Complete messages in pieces slower than nothing but faster than the timeout are fine.
  ArrpcPeer peer(server.port());
  const std::string whole = test_support::msgpack_bytes(Strings{{"slow", "but steady"}});
  for (char c : whole) {
    peer.send(std::string_view(&c, 1));
    std::this_thread::sleep_for(5ms);
  }
  auto reply = peer.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->get().as<Strings>(), (Strings{{"slow", "but steady"}}));
}

TEST(Arrpc, IdleArrpcConnectionsHoldNoFiber) {
  greenrpc::App app;
  app.message_handler([](msgpack::object m) { return m; });
  greenrpc::Server server = app.start_background(options());
  std::vector<std::unique_ptr<ArrpcPeer>> peers;
  for (int i = 0; i < 20; ++i) {
    peers.push_back(std::make_unique<ArrpcPeer>(server.port()));
    // An array first: a first message that is an integer 0-127 is an ASCII byte, read as RESP.
    EXPECT_EQ(peers.back()->call<std::vector<int>>(std::vector<int>{i}), std::vector<int>{i});
  }
  test_support::RawSocket resp(server.port());
  auto dormant = [&] {
    const std::string info = resp.call("*1\r\n$4\r\nINFO\r\n");
    const auto at = info.find("greenrpc_dormant_clients:");
    return at == std::string::npos ? -1 : std::atoi(info.c_str() + at + 25);
  };
  EXPECT_TRUE(test_support::wait_until([&] { return dormant() >= 20; }, 3s)) << dormant();
  // And they wake for their next message.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(peers[i]->call<int>(i + 100), i + 100);
}

TEST(Arrpc, StopReturnsWithinItsBoundWithArrpcHandlersRunning) {
  greenrpc::App app;
  std::atomic<int> started{0};
  app.message_handler([&started](const std::string& what) -> std::string {
    if (what == "sleep") {
      ++started;
      greenrpc::sleep_for(30s);  // cancelled by the stop
    }
    return what;
  });
  greenrpc::ServerOptions o = options();
  o.workers = 2;
  o.grace_period = 300ms;
  o.stop_timeout = 500ms;
  greenrpc::Server server = app.start_background(o);
  // Running (two connections, so both workers likely), queued behind one, idle, and half-sent.
  ArrpcPeer busy(server.port()), busy2(server.port()), idle(server.port()), partial(server.port());
  busy.send(test_support::msgpack_bytes(std::string("sleep")) + test_support::msgpack_bytes(std::string("queued")));
  busy2.send_value(std::string("sleep"));
  EXPECT_EQ(idle.call<std::string>(std::string("hello")), "hello");
  partial.send(std::string_view("\x92\x01", 2));
  ASSERT_TRUE(test_support::wait_until([&] { return started.load() == 2; }, 3s));

  const auto start = greenrpc::Clock::now();
  server.stop();
  const auto took = greenrpc::Clock::now() - start;
  EXPECT_LT(took, o.grace_period + o.stop_timeout + 700ms);
  EXPECT_GE(took, o.grace_period);  // the handlers had their grace period

  // The running handler's wait was cancelled; the message queued behind it never ran.
  EXPECT_EQ(busy.read_string(), "arrpc.error.RpcException: CANCELLED sleep cancelled");
  EXPECT_EQ(busy.read_string(), "arrpc.error.RpcException: SHUTTING_DOWN the server is stopping: this request did not run");
  EXPECT_TRUE(busy.closes());
  EXPECT_EQ(busy2.read_string(), "arrpc.error.RpcException: CANCELLED sleep cancelled");
  EXPECT_TRUE(busy2.closes());
  EXPECT_TRUE(idle.closes());
  EXPECT_TRUE(partial.closes());
}

TEST(Arrpc, AMessageThatCrossesTheDrainIsAnsweredShuttingDown) {
  greenrpc::App app;
  std::atomic<bool> running{false};
  app.message_handler([&running](const std::string& what) -> std::string {
    if (what == "slow") {
      running = true;
      greenrpc::sleep_for(400ms);
    }
    return what;
  });
  greenrpc::ServerOptions o = options();
  o.grace_period = 3s;
  greenrpc::Server server = app.start_background(o);
  ArrpcPeer peer(server.port());
  peer.send_value(std::string("slow"));
  ASSERT_TRUE(test_support::wait_until([&] { return running.load(); }, 3s));
  std::thread stopper([&] { server.stop(); });
  std::this_thread::sleep_for(100ms);  // the drain has begun; the handler still runs
  peer.send_value(std::string("late"));
  EXPECT_EQ(peer.read_string(), "slow");  // the running one finishes within the grace period
  EXPECT_EQ(peer.read_string(), "arrpc.error.RpcException: SHUTTING_DOWN the server is stopping: this request did not run");
  EXPECT_TRUE(peer.closes());
  stopper.join();
}

// A message of n positive fixints in one array32: n + 5 bytes on the wire, a msgpack object tree
// of about 16 bytes per element once built.
std::string fixint_array(std::uint32_t n) {
  std::string bytes = "\xdd";
  for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<char>((n >> shift) & 0xff));
  bytes.append(n, '\x01');
  return bytes;
}

TEST(Arrpc, AMessagesObjectTreeIsChargedToTheClientMemoryBudgetBeforeItIsBuilt) {
  // 1 byte on the wire becomes ~16 bytes of tree: a 512 KiB message would build an 8 MiB tree,
  // twice this server's whole client memory budget. It is charged before it is built, so the
  // budget evicts the connection instead; a smaller message and the other connections are served.
  greenrpc::App app;
  std::atomic<int> built{0};
  app.message_handler([&built](msgpack::object message) {
    ++built;
    return message.type == msgpack::type::ARRAY ? message.via.array.size : 0u;
  });
  greenrpc::ServerOptions o = options();
  o.client_memory_budget = 4u << 20;
  greenrpc::Server server = app.start_background(o);
  ArrpcPeer bystander(server.port());
  EXPECT_EQ(bystander.call<std::uint32_t>(std::vector<int>{7}), 1u);

  ArrpcPeer small(server.port());
  small.send(fixint_array(64 * 1024));  // a 1 MiB tree: within the budget
  auto reply = small.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->get().as<std::uint32_t>(), 64u * 1024);

  ArrpcPeer large(server.port());
  large.send(fixint_array(512 * 1024));
  EXPECT_EQ(large.read_string(), "arrpc.error.RpcException: client memory budget exceeded: this connection held the most buffered bytes");
  EXPECT_TRUE(large.closes());
  EXPECT_EQ(built.load(), 2) << "the 8 MiB tree was built before the budget saw it";  // the bystander's and the small one

  EXPECT_EQ(bystander.call<std::uint32_t>(std::vector<int>{7, 8}), 2u);
  EXPECT_EQ(small.call<std::uint32_t>(std::vector<int>{1, 2, 3}), 3u);
}

}  // namespace
