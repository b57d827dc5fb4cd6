#pragma once
// A server App with the commands the server and client suites call, plus small helpers.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>
#include <stdexcept>
#include <string>
#include <thread>

namespace test_app {

struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

inline const greenrpc::Command<int(int, NumberInput)> add{"add", {"a", "b"}};
inline const greenrpc::Command<int(int)> sleep_ms{"sleep_ms", {"ms"}};

struct Counters {
  std::atomic<int> calls{0};
};

struct Session {
  int hits = 0;
};

// Registers the shared test commands on `app`.
inline void install(greenrpc::App& app, Counters& counters) {
  app.command(add, [&counters](int a, NumberInput b) {
    ++counters.calls;
    return a + b.value;
  });
  app.command(sleep_ms, [](int ms) {
    greenrpc::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  app.command("blocking_sleep_ms", [](int ms) {
    return greenrpc::run_blocking([ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // a truly blocking call
      return ms;
    });
  });
  app.command("fail", [](std::string what) -> int { throw std::runtime_error(what); });
  app.command("fail_custom", [](std::string what) -> int { throw greenrpc::CommandError("OUT_OF_STOCK", what); });
  app.command("whoami", [](greenrpc::AuthRequired<std::string> user) { return *user; });
  app.command("maybe_user", [](greenrpc::Auth<std::string> user) { return user ? *user : std::string("anonymous"); });
  app.command("hits", [](greenrpc::ConnState<Session> s) { return ++s->hits; });
  app.command("conn_id", [](const greenrpc::RequestContext& ctx) { return ctx.connection_id(); });
  app.command("worker", [](const greenrpc::RequestContext& ctx) { return ctx.worker(); });
  app.command("echo", [](std::string s) { return s; });
  app.auth([](std::string_view password) -> std::optional<std::string> {
    if (password == "secret") return std::string("alice");
    return std::nullopt;
  });
  app.state_factory([] { return Session{}; });
}

inline greenrpc::ServerOptions local_options(unsigned workers = 1) {
  greenrpc::ServerOptions o;
  o.port = 0;
  o.workers = workers;
  o.grace_period = std::chrono::milliseconds(2000);
  return o;
}

// 1,000 connections on each side need more than the default 1,024 descriptors.
inline void raise_fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace test_app
