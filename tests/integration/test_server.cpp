// The server the integration tests talk to with real peers (redis-py, redis-cli, raw sockets).
//
//   test_server [--port N] [--host H] [--workers N] [--max-bulk N] [--max-array N]
//               [--max-inline N] [--max-clients N] [--no-echo] [--ignore-stdin] [--coerce-like-pydantic]
//               [--tls-cert F --tls-key F [--tls-ca F] [--tls-require-client-cert]
//                [--tls-port N] [--tls-accept-plaintext]] [--metrics-port N]
//
// Prints "PORT <n>" on stdout once listening, then serves until SIGTERM/SIGINT or until stdin
// reaches EOF (so it dies with the test that started it), stops cleanly, prints "STOPPED" on
// stderr and exits 0. Every command below exists to exercise one type or special argument.
//
// With --tls-cert (ServerOptions::tls): the line is "PORT <n> TLS_PORT <t>" (t == n unless
// --tls-port gave TLS a port of its own; --tls-port 0 picks a free one), and the commands
// cert_whoami, tls_version and tls_sni are registered too (only then: without the --tls flags the
// command table is the one test_builtins.py expects).
//
// With --metrics-port N (ServerOptions::metrics on 127.0.0.1:N; 0 picks a free port): the line
// ends with " METRICS_PORT <m>", the port /metrics, /healthz and /readyz are served on.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <greenrpc/greenrpc.hpp>

#include "../support/serve_until_stopped.hpp"
#include <msgpack.hpp>

namespace {

// add(a, b) -> a + b.value, with the argument names of the quickstart.
struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

struct Address {
  std::string city;
  int zip = 0;
  MSGPACK_DEFINE_MAP(city, zip);
};

// A model with a nested model, an optional field, a list and a dict.
struct User {
  std::string name;
  int age = 0;
  Address address;
  std::optional<std::string> email;
  std::vector<std::string> tags;
  std::map<std::string, int> scores;
  MSGPACK_DEFINE_MAP(name, age, address, email, tags, scores);
};

enum class Color : std::int32_t { red = 1, green = 2, blue = 3 };

struct Counter {
  long long n = 0;
};

std::string describe(const User& u) {
  std::string s = "name=" + u.name + ";age=" + std::to_string(u.age) + ";city=" + u.address.city +
                  ";zip=" + std::to_string(u.address.zip) + ";email=" + (u.email ? *u.email : "<none>") + ";tags=";
  for (std::size_t i = 0; i < u.tags.size(); ++i) s += (i ? "," : "") + u.tags[i];
  s += ";scores=";
  bool first = true;
  for (const auto& [k, v] : u.scores) {
    s += (first ? "" : ",") + k + ":" + std::to_string(v);
    first = false;
  }
  return s;
}

void register_commands(greenrpc::App& app, bool with_echo) {
  app.command("add", {"a", "b"}, [](int a, NumberInput b) { return a + b.value; });
  if (with_echo) app.command("echo", [](std::string s) { return s; });  // shadows the built-in ECHO
  app.command("concat", [](std::vector<std::string> parts) {
    std::string out;
    for (const auto& p : parts) out += p;
    return out;
  });
  app.command("user_roundtrip", {"user"}, [](User u) { return u; });
  app.command("describe_user", {"user"}, [](User u) { return describe(u); });
  app.command("optional_int", [](std::optional<int> v) -> std::optional<int> {
    if (v) return *v * 2;
    return std::nullopt;
  });
  app.command("bytes_roundtrip", [](greenrpc::Bytes b) { return b; });
  app.command("bytes_len", [](greenrpc::Bytes b) { return static_cast<std::uint64_t>(b.size()); });
  app.command("next_color", [](Color c) {
    switch (c) {
      case Color::red: return Color::green;
      case Color::green: return Color::blue;
      case Color::blue: return Color::red;
    }
    throw greenrpc::CommandError("BAD_COLOR", "no such color " + std::to_string(static_cast<int>(c)));
  });
  app.command("swap_pair", [](std::tuple<int, std::string> t) {
    return std::tuple<std::string, int>(std::get<1>(t), std::get<0>(t));
  });
  app.command("half", [](double d) { return d / 2; });
  app.command("negate", [](bool b) { return !b; });
  app.command("inc_u8", {"value"}, [](std::uint8_t v) { return static_cast<int>(v) + 1; });
  app.command("sum_list", {"values"}, [](std::vector<int> v) {
    long long s = 0;
    for (int x : v) s += x;
    return s;
  });
  app.command("map_total", [](std::map<std::string, int> m) {
    long long s = 0;
    for (const auto& [k, v] : m) s += v;
    return s;
  });
  app.command("int64_identity", [](std::int64_t v) { return v; });
  app.command("noop", [] {});
  app.command("noop_arg", [](int) {});
  app.command("fail", [](std::string message) -> int { throw std::runtime_error(message); });
  app.command("custom_fail", [](std::string message) -> int { throw greenrpc::CommandError("CUSTOM_CODE", message); });
  app.command("whoami", [](greenrpc::AuthRequired<std::string> user) { return *user; });
  app.command("maybe_user", [](greenrpc::Auth<std::string> user) -> std::optional<std::string> {
    if (user) return *user;
    return std::nullopt;
  });
  // (An AuthRequired<int> command next to this std::string auth function is now refused when it is
  // registered: tests/server/usability_test.cpp.)
  // A ConnState of a type the state factory does not make: an UNEXPECTED_ERROR, not a crash.
  app.command("wrong_state", [](greenrpc::ConnState<double> d) { return *d; });
  // Authentication is checked before arguments are decoded.
  app.command("secret_add", {"x"}, [](greenrpc::AuthRequired<std::string>, int x) { return x + 1000; });
  app.command("incr_counter", [](greenrpc::ConnState<Counter> c) { return ++c->n; });
  app.command("sleep_ms", [](int ms) {
    greenrpc::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  app.command("info_ctx", [](const greenrpc::RequestContext& ctx) { return ctx.connection_id(); });
  app.command("worker_index", [](const greenrpc::RequestContext& ctx) { return ctx.worker(); });
  // Special arguments between wire arguments: wire positions skip them (["mixed",1] is `y`).
  app.command("mixed", [](const greenrpc::RequestContext& ctx, int x, greenrpc::ConnState<Counter> c, std::string y) {
    return y + ":" + std::to_string(x) + ":" + std::to_string(c->n) + ":" + std::string(ctx.command());
  });
}

// Commands reading RequestContext::tls(): nil over plaintext.
void register_tls_commands(greenrpc::App& app) {
  // The common name of the client's verified certificate; nil when it sent none (or plaintext).
  app.command("cert_whoami", [](const greenrpc::RequestContext& ctx) -> std::optional<std::string> {
    if (const greenrpc::PeerCertificate* cert = ctx.peer_certificate()) return cert->common_name;
    return std::nullopt;
  });
  app.command("tls_version", [](const greenrpc::RequestContext& ctx) -> std::optional<std::string> {
    if (ctx.tls()) return ctx.tls()->version;
    return std::nullopt;
  });
  app.command("tls_sni", [](const greenrpc::RequestContext& ctx) -> std::optional<std::string> {
    if (ctx.tls()) return ctx.tls()->server_name;
    return std::nullopt;
  });
}


bool parse_size(const char* text, std::size_t& out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno || !end || *end || end == text) return false;
  out = static_cast<std::size_t>(v);
  return true;
}

int usage(const char* why) {
  std::fprintf(stderr, "test_server: %s\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;
  options.port = 0;
  options.grace_period = std::chrono::milliseconds(1000);
  bool with_echo = true;
  bool watch_stdin = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::size_t& out) {
      if (i + 1 >= argc || !parse_size(argv[i + 1], out)) return false;
      ++i;
      return true;
    };
    std::size_t v = 0;
    if (arg == "--no-echo") {
      with_echo = false;
    } else if (arg == "--coerce-like-pydantic") {
      options.decode_limits.coercion = greenrpc::codec::Coercion::pydantic;
    } else if (arg == "--ignore-stdin") {
      watch_stdin = false;
    } else if (arg == "--host") {
      if (i + 1 >= argc) return usage("--host needs a value");
      options.host = argv[++i];
    } else if (arg == "--port") {
      if (!value(v) || v > 65535) return usage("bad --port");
      options.port = static_cast<std::uint16_t>(v);
    } else if (arg == "--workers") {
      if (!value(v) || v == 0) return usage("bad --workers");
      options.workers = static_cast<unsigned>(v);
    } else if (arg == "--max-bulk") {
      if (!value(options.protocol_limits.max_bulk_bytes)) return usage("bad --max-bulk");
    } else if (arg == "--max-array") {
      if (!value(options.protocol_limits.max_array_elements)) return usage("bad --max-array");
    } else if (arg == "--max-inline") {
      if (!value(options.protocol_limits.max_inline_bytes)) return usage("bad --max-inline");
    } else if (arg == "--max-clients") {
      if (!value(options.max_connections)) return usage("bad --max-clients");
    } else if (arg == "--tls-cert" || arg == "--tls-key" || arg == "--tls-ca") {
      if (i + 1 >= argc) return usage((arg + " needs a file").c_str());
      std::string& file = arg == "--tls-cert" ? options.tls.cert_file
                          : arg == "--tls-key" ? options.tls.key_file
                                               : options.tls.ca_file;
      file = argv[++i];
    } else if (arg == "--tls-require-client-cert") {
      options.tls.require_client_cert = true;
    } else if (arg == "--tls-port") {
      if (!value(v) || v > 65535) return usage("bad --tls-port");
      options.tls.port = static_cast<std::uint16_t>(v);
    } else if (arg == "--tls-accept-plaintext") {
      options.tls.accept_plaintext = true;
    } else if (arg == "--metrics-port") {
      if (!value(v) || v > 65535) return usage("bad --metrics-port");
      options.metrics.enabled = true;
      options.metrics.port = static_cast<std::uint16_t>(v);
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }

  greenrpc::App app;
  register_commands(app, with_echo);
  app.auth([](std::string_view user, std::string_view password) -> std::optional<std::string> {
    if (user == "default" && password == "secret") return std::string("alice");
    if (user == "bob" && password == "pw2") return std::string("bob");
    if (user == "crash") throw std::runtime_error("auth backend down");
    return std::nullopt;
  });
  app.state_factory([] { return Counter{}; });

  // The other --tls flags without --tls-cert reach the server, which refuses them.
  const bool tls = options.tls.enabled() || !options.tls.key_file.empty() || !options.tls.ca_file.empty() ||
                   options.tls.require_client_cert || options.tls.port || options.tls.accept_plaintext;
  if (tls) register_tls_commands(app);
  return test_support::serve_until_stopped(app, options, "test_server", watch_stdin);
}
