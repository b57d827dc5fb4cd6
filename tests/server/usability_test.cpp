// What a new user tripped on (issue 7 §4): auth types that cannot match are refused when the app
// is put together, not answered PERMISSION_DENIED forever; connection state may be move-only.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../support/test_app.hpp"

namespace {

std::optional<std::string> auth_as_string(std::string_view password) {
  if (password == "secret") return std::string("alice");
  return std::nullopt;
}

// The message of the std::invalid_argument `fn` throws; fails the test if it throws nothing.
template <class F>
std::string invalid_argument_from(F fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected std::invalid_argument";
  return {};
}

// ---- Auth<T> / AuthRequired<T> whose T is not the auth function's value type ---------------

TEST(AuthTypeCheck, CommandRegisteredAfterAuthWithAnotherTypeThrowsNamingBothTypes) {
  greenrpc::App app;
  app.auth(auth_as_string);
  std::string what = invalid_argument_from([&] { app.command("whoami_id", [](greenrpc::AuthRequired<int> id) { return *id; }); });
  EXPECT_NE(what.find("'whoami_id'"), std::string::npos) << what;
  EXPECT_NE(what.find("greenrpc::AuthRequired<int>"), std::string::npos) << what;
  EXPECT_NE(what.find("std::string"), std::string::npos) << what;
  EXPECT_EQ(app.registry().find("whoami_id"), nullptr) << "a refused command must not be half-registered";
}

TEST(AuthTypeCheck, AuthSetAfterACommandWithAnotherTypeThrowsNamingBothTypes) {
  greenrpc::App app;
  app.command("whoami_id", [](greenrpc::AuthRequired<int> id) { return *id; });
  std::string what = invalid_argument_from([&] { app.auth(auth_as_string); });
  EXPECT_NE(what.find("'whoami_id'"), std::string::npos) << what;
  EXPECT_NE(what.find("greenrpc::AuthRequired<int>"), std::string::npos) << what;
  EXPECT_NE(what.find("std::string"), std::string::npos) << what;
  // The refused auth function was not installed: starting still fails, for want of one.
  std::string at_start = invalid_argument_from([&] { app.start_background(test_app::local_options()); });
  EXPECT_NE(at_start.find("no auth function"), std::string::npos) << at_start;
}

TEST(AuthTypeCheck, OptionalAuthOfAnotherTypeIsRefusedToo) {
  struct User {
    std::string name;
  };
  greenrpc::App app;
  app.auth([](std::string_view user, std::string_view) -> std::optional<User> { return User{std::string(user)}; });
  std::string what =
      invalid_argument_from([&] { app.command("maybe", [](greenrpc::Auth<std::string> s) { return s ? *s : ""; }); });
  EXPECT_NE(what.find("greenrpc::Auth<std::string>"), std::string::npos) << what;
  EXPECT_NE(what.find("User"), std::string::npos) << what;
}

TEST(AuthTypeCheck, MatchingTypesInEitherOrderAreAccepted) {
  greenrpc::App before, after;
  before.auth(auth_as_string);
  before.command("whoami", [](greenrpc::AuthRequired<std::string> u) { return *u; });
  before.command("maybe", [](const greenrpc::Auth<const std::string>& u) { return u ? *u : "anonymous"; });
  after.command("whoami", [](greenrpc::AuthRequired<std::string> u) { return *u; });
  EXPECT_NO_THROW(after.auth(auth_as_string));
}

TEST(AuthTypeCheck, AuthRequiredWithoutAnAuthFunctionRegistersButCannotStart) {
  greenrpc::App app;
  app.command("whoami", [](greenrpc::AuthRequired<std::string> u) { return *u; });
  std::string what = invalid_argument_from([&] { app.start_background(test_app::local_options()); });
  EXPECT_NE(what.find("'whoami'"), std::string::npos) << what;
  EXPECT_NE(what.find("greenrpc::AuthRequired<std::string>"), std::string::npos) << what;
  EXPECT_NE(what.find("no auth function"), std::string::npos) << what;
}

TEST(AuthTypeCheck, MatchingAuthRequiredServesAfterAGoodAuth) {
  greenrpc::App app;
  app.command("whoami", [](greenrpc::AuthRequired<std::string> u) { return *u; });
  app.auth(auth_as_string);
  greenrpc::Server server = app.start_background(test_app::local_options());
  greenrpc::ClientOptions opts;
  opts.password = "secret";
  greenrpc::Client client("127.0.0.1", server.port(), opts);
  EXPECT_EQ(client.call<std::string>("whoami"), "alice");
}

// The three-argument form sees the connection (under mutual TLS, its certificate): here its
// peer address decides, so a password alone is not enough.
TEST(AuthTypeCheck, AuthFunctionWithTheRequestContextSeesThePeer) {
  greenrpc::App app;
  app.command("whoami", [](greenrpc::AuthRequired<std::string> u) { return *u; });
  app.auth([](const greenrpc::RequestContext& ctx, std::string_view user,
              std::string_view password) -> std::optional<std::string> {
    if (password != "secret" || ctx.peer().host != "127.0.0.1" || ctx.tls() != nullptr) return std::nullopt;
    return std::string(user) + "@" + ctx.peer().host;
  });
  greenrpc::Server server = app.start_background(test_app::local_options());
  greenrpc::ClientOptions opts;
  opts.username = "bob";
  opts.password = "secret";
  greenrpc::Client client("127.0.0.1", server.port(), opts);
  EXPECT_EQ(client.call<std::string>("whoami"), "bob@127.0.0.1");
  opts.password = "wrong";
  EXPECT_THROW(greenrpc::Client("127.0.0.1", server.port(), opts).call<std::string>("whoami"), greenrpc::Error);
}

// ---- ConnState<T> with a move-only (or immovable) T ------------------------------------------

struct MoveOnlySession {
  std::unique_ptr<int> hits = std::make_unique<int>(0);
};
static_assert(!std::is_copy_constructible_v<MoveOnlySession>);

struct ImmovableSession {
  std::mutex mutex;  // neither copyable nor movable
  int hits = 0;
};
static_assert(!std::is_move_constructible_v<ImmovableSession>);

TEST(ConnStateOwnership, MoveOnlyStateIsPerConnectionOverARealConnection) {
  greenrpc::App app;
  app.state_factory([] { return MoveOnlySession{}; });
  app.command("hits", [](greenrpc::ConnState<MoveOnlySession> s) { return ++*s->hits; });
  greenrpc::Server server = app.start_background(test_app::local_options());
  greenrpc::Client first("127.0.0.1", server.port());
  EXPECT_EQ(first.call<int>("hits"), 1);
  EXPECT_EQ(first.call<int>("hits"), 2);
  greenrpc::Client second("127.0.0.1", server.port());
  EXPECT_EQ(second.call<int>("hits"), 1) << "each connection has its own state";
  EXPECT_EQ(first.call<int>("hits"), 3);
}

TEST(ConnStateOwnership, ImmovableStateIsBuiltInPlace) {
  greenrpc::App app;
  app.state_factory([] { return ImmovableSession{}; });  // a prvalue: no move needed
  app.command("hits", [](greenrpc::ConnState<ImmovableSession> s) {
    std::lock_guard lock(s->mutex);
    return ++s->hits;
  });
  greenrpc::Server server = app.start_background(test_app::local_options());
  greenrpc::Client client("127.0.0.1", server.port());
  EXPECT_EQ(client.call<int>("hits"), 1);
  EXPECT_EQ(client.call<int>("hits"), 2);
}

TEST(ConnStateOwnership, StateOfAnotherTypeIsStillAnUnexpectedError) {
  greenrpc::App app;
  app.state_factory([] { return MoveOnlySession{}; });
  app.command("wrong", [](greenrpc::ConnState<double> d) { return *d; });
  greenrpc::Server server = app.start_background(test_app::local_options());
  greenrpc::Client client("127.0.0.1", server.port());
  try {
    client.call<double>("wrong");
    ADD_FAILURE() << "expected an error reply";
  } catch (const greenrpc::RemoteError& e) {
    EXPECT_NE(std::string(e.what()).find("no connection state of the requested type"), std::string::npos) << e.what();
  }
}

// ---- MoveOnlyAny itself ----------------------------------------------------------------------

struct CountsDestructions {
  int* destroyed;
  explicit CountsDestructions(int* d) : destroyed(d) {}
  CountsDestructions(CountsDestructions&&) = delete;
  ~CountsDestructions() { ++*destroyed; }
};

TEST(MoveOnlyAny, HoldsOneValueFindsItOnlyByItsTypeAndDestroysItOnce) {
  int destroyed = 0;
  {
    greenrpc::MoveOnlyAny a(std::in_place_type<CountsDestructions>, &destroyed);
    EXPECT_TRUE(a.has_value());
    EXPECT_EQ(a.type(), typeid(CountsDestructions));
    EXPECT_NE(a.get_if<CountsDestructions>(), nullptr);
    EXPECT_NE(a.get_if<const CountsDestructions>(), nullptr);
    EXPECT_EQ(a.get_if<int>(), nullptr);
    greenrpc::MoveOnlyAny b = std::move(a);
    EXPECT_FALSE(a.has_value());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(a.type(), typeid(void));
    EXPECT_EQ(a.get_if<CountsDestructions>(), nullptr);
    EXPECT_EQ(destroyed, 0);
    b = greenrpc::MoveOnlyAny::from_factory([] { return std::make_unique<int>(7); });
    EXPECT_EQ(destroyed, 1);
    ASSERT_NE(b.get_if<std::unique_ptr<int>>(), nullptr);
    EXPECT_EQ(**b.get_if<std::unique_ptr<int>>(), 7);
  }
  EXPECT_EQ(destroyed, 1);
}

static_assert(!std::is_copy_constructible_v<greenrpc::MoveOnlyAny>);
static_assert(std::is_nothrow_move_constructible_v<greenrpc::MoveOnlyAny>);

}  // namespace
