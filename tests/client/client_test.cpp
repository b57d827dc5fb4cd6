// The client against a real in-process server: typed calls, typed errors, timeouts, threads,
// fibers, reconnection.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "../support/test_app.hpp"

using namespace std::chrono_literals;
using greenrpc::Clock;
using test_app::NumberInput;

namespace {

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_app::install(app, counters);
    server = app.start_background(test_app::local_options());
  }
  greenrpc::Client make_client(greenrpc::ClientOptions opts = {}) { return {"127.0.0.1", server.port(), opts}; }

  greenrpc::App app;
  test_app::Counters counters;
  greenrpc::Server server;
};

}  // namespace

TEST_F(ClientTest, CallsByDeclarationByNameAndAsync) {
  auto client = make_client();
  EXPECT_EQ(client.call(test_app::add, 1, NumberInput{2}), 3);
  EXPECT_EQ(client.call<int>("add", 40, NumberInput{2}), 42);
  EXPECT_EQ(client.call<int>("ADD", 1, NumberInput{1}), 2) << "command names are case-insensitive";
  std::vector<greenrpc::Future<int>> fan_out;
  for (int i = 0; i < 100; ++i) fan_out.push_back(client.call_async(test_app::add, i, NumberInput{i}));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(fan_out[i].get(), 2 * i);
  EXPECT_EQ(client.ping(), "PONG");
}

TEST_F(ClientTest, ServerErrorsRaiseTypedExceptions) {
  auto client = make_client();
  EXPECT_THROW(client.call<int>("no_such_command"), greenrpc::UnknownCommandError);
  EXPECT_THROW(client.call<int>("add", 1), greenrpc::ArgumentCountError);
  EXPECT_THROW(client.call<std::string>("whoami"), greenrpc::PermissionDeniedError);
  try {
    client.call<int>("add", 1, std::string("not a model"));
    FAIL() << "no exception";
  } catch (const greenrpc::ValidationError& e) {
    EXPECT_EQ(e.code(), "VALIDATION_ERROR");
    // Tino's reply, parsed: the whole path, pydantic's msg and type.
    EXPECT_EQ(e.location(), (greenrpc::ErrorPath{"command", "b"}));
    EXPECT_EQ(e.message(), "value is not a valid dict");
    EXPECT_EQ(e.type(), "type_error.dict");
  }
  try {
    client.call<int>("add", 1, std::map<std::string, std::string>{{"value", "two"}});
    FAIL() << "no exception";
  } catch (const greenrpc::ValidationError& e) {
    EXPECT_EQ(e.location(), (greenrpc::ErrorPath{"command", "b", "value"}));
    EXPECT_EQ(e.message(), "value is not a valid integer");
    EXPECT_EQ(e.type(), "type_error.integer");
  }
  try {
    client.call<int>("sleep_ms", std::string("x"));
    FAIL() << "no exception";
  } catch (const greenrpc::ValidationError& e) {
    EXPECT_EQ(e.location(), (greenrpc::ErrorPath{"command", "ms"}));
  }
  try {
    client.call<int>("fail_custom", std::string("gone"));
    FAIL() << "no exception";
  } catch (const greenrpc::RemoteError& e) {
    EXPECT_EQ(e.code(), "OUT_OF_STOCK");
    EXPECT_EQ(e.message(), "gone");
  }
  // A result that does not decode as the asked-for type.
  EXPECT_THROW(client.call<std::string>("add", 1, NumberInput{1}), greenrpc::ReplyTypeError);
  EXPECT_EQ(client.call(test_app::add, 1, NumberInput{1}), 2) << "errors leave the connection usable";
}

TEST_F(ClientTest, PasswordAuthenticatesEveryConnection) {
  greenrpc::ClientOptions opts;
  opts.password = "secret";
  opts.connections = 3;
  auto client = make_client(opts);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(client.call<std::string>("whoami"), "alice");
  EXPECT_EQ(make_client().call<std::string>("maybe_user"), "anonymous");

  greenrpc::ClientOptions wrong;
  wrong.password = "nope";
  auto refused = make_client(wrong);
  EXPECT_THROW(refused.call<std::string>("maybe_user"), greenrpc::PermissionDeniedError);
}

TEST_F(ClientTest, ConnectionStateIsPerConnection) {
  auto a = make_client();
  auto b = make_client();
  EXPECT_EQ(a.call<int>("hits"), 1);
  EXPECT_EQ(a.call<int>("hits"), 2);
  EXPECT_EQ(b.call<int>("hits"), 1);
  EXPECT_NE(a.call<std::uint64_t>("conn_id"), b.call<std::uint64_t>("conn_id"));
}

TEST_F(ClientTest, ConnectErrorNamesTheEndpoint) {
  std::uint16_t port = server.port();
  server.stop();
  greenrpc::ClientOptions opts;
  opts.connect_timeout = 500ms;
  greenrpc::Client client("127.0.0.1", port, opts);
  try {
    client.call<int>("add", 1, NumberInput{1});
    FAIL() << "no exception";
  } catch (const greenrpc::ConnectError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
  }
}

TEST_F(ClientTest, TimeoutThenTheNextCallGetsItsOwnReply) {
  auto client = make_client();
  greenrpc::CallOptions quick;
  quick.timeout = 50ms;
  auto t0 = Clock::now();
  EXPECT_THROW(client.call(quick, test_app::sleep_ms, 300), greenrpc::TimeoutError);
  EXPECT_LT(Clock::now() - t0, 250ms);
  // Same connection: the late reply (300) arrives first and must be dropped, not returned here.
  EXPECT_EQ(client.call(test_app::sleep_ms, 7), 7);
  EXPECT_EQ(client.call(test_app::add, 1, NumberInput{1}), 2);
}

TEST_F(ClientTest, DefaultTimeoutFromOptions) {
  greenrpc::ClientOptions opts;
  opts.timeout = 50ms;
  auto client = make_client(opts);
  EXPECT_THROW(client.call(test_app::sleep_ms, 150), greenrpc::TimeoutError);
  // One connection's requests run in order on the server: let the slow one finish first.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(client.call(test_app::sleep_ms, 1), 1);
}

TEST_F(ClientTest, SharedBetweenPlainThreads) {
  auto client = make_client();
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i)
        if (client.call(test_app::add, t * 1000 + i, NumberInput{1}) != t * 1000 + i + 1) ++wrong;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(counters.calls.load(), 8 * 500);
}

TEST_F(ClientTest, InsideAHandlerTheClientParksOnlyTheFiber) {
  // A front server whose handler calls the back server (this fixture's) with a client.
  greenrpc::Client backend("127.0.0.1", server.port());
  greenrpc::App front;
  front.command("relay_sleep", [&backend](int ms) { return backend.call(test_app::sleep_ms, ms); });
  front.command("quick", [] { return 1; });
  auto front_server = front.start_background(test_app::local_options(1));  // ONE worker thread
  greenrpc::Client a("127.0.0.1", front_server.port());
  greenrpc::Client b("127.0.0.1", front_server.port());
  auto slow = a.call_async<int>("relay_sleep", 400);
  std::this_thread::sleep_for(50ms);
  auto t0 = Clock::now();
  EXPECT_EQ(b.call<int>("quick"), 1);
  EXPECT_LT(Clock::now() - t0, 200ms) << "the worker thread was blocked by the relaying handler";
  EXPECT_EQ(slow.get(), 400);
}

TEST_F(ClientTest, ReconnectsAfterTheServerRestarts) {
  auto client = make_client();
  EXPECT_EQ(client.call(test_app::add, 1, NumberInput{1}), 2);
  std::uint16_t port = server.port();
  server.stop();
  auto opts = test_app::local_options();
  opts.port = port;
  server = app.start_background(opts);
  // The old connection is dead; the first call may find that out, a later one reconnects.
  int ok = 0;
  for (int i = 0; i < 3 && ok == 0; ++i) {
    try {
      ok = client.call(test_app::add, 2, NumberInput{2});
    } catch (const greenrpc::ConnectionLostError&) {
    }
  }
  EXPECT_EQ(ok, 4);
}

TEST_F(ClientTest, ThousandsOfPipelinedCallsKeepOrder) {
  auto client = make_client();
  std::vector<greenrpc::Future<std::string>> calls;
  for (int i = 0; i < 10000; ++i) calls.push_back(client.call_async<std::string>("echo", std::to_string(i)));
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(calls[i].get(), std::to_string(i));
}
