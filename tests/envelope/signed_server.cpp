// A server that signs, for test_sign_python.py (a client written from docs/protocol.md alone).
//
//   signed_server --port 0 --secret S [--previous S2]... [--allow-unsigned] [--host H]
//
// Prints "PORT <n>" on stdout once listening; serves until SIGTERM/SIGINT or stdin EOF; then
// stops, prints "STOPPED" on stderr and exits 0.
//
// Commands: add(a:int, b:{"value":int}) -> int, echo(s:str) -> str, fail(msg:str) (throws
// greenrpc::RpcError(msg)), deadline_left() -> the handler's remaining deadline in ms (-1: none),
// calls() -> how many user handlers ran so far (itself excluded).

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <greenrpc/greenrpc.hpp>

#include "../support/serve_until_stopped.hpp"
#include <msgpack.hpp>
#include <string>

namespace {

struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

std::atomic<long long> g_calls{0};

int usage(const char* why) {
  std::fprintf(stderr, "signed_server: %s\nusage: signed_server --port N --secret S [--previous S]... "
                       "[--allow-unsigned] [--host H]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;
  options.port = 0;
  options.grace_period = std::chrono::milliseconds(1000);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--port") {
      const char* v = next();
      if (!v) return usage("--port needs a value");
      options.port = static_cast<std::uint16_t>(std::strtoul(v, nullptr, 10));
    } else if (arg == "--host") {
      const char* v = next();
      if (!v) return usage("--host needs a value");
      options.host = v;
    } else if (arg == "--secret") {
      const char* v = next();
      if (!v) return usage("--secret needs a value");
      options.auth_secret = v;
    } else if (arg == "--previous") {
      const char* v = next();
      if (!v) return usage("--previous needs a value");
      options.previous_auth_secrets.emplace_back(v);
    } else if (arg == "--allow-unsigned") {
      options.allow_unsigned = true;
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }

  greenrpc::App app;
  app.command("add", {"a", "b"}, [](int a, NumberInput b) {
    ++g_calls;
    return a + b.value;
  });
  app.command("echo", {"s"}, [](std::string s) {
    ++g_calls;
    return s;
  });
  app.command("fail", {"message"}, [](std::string message) -> int {
    ++g_calls;
    throw greenrpc::RpcError(message);
  });
  app.command("deadline_left", [](const greenrpc::RequestContext& ctx) -> long long {
    ++g_calls;
    if (ctx.deadline().is_never()) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline().remaining()).count();
  });
  app.command("calls", [] { return g_calls.load(); });

  return test_support::serve_until_stopped(app, options, "signed_server");
}
