// The auth server: an auth function turns a password into a User; commands take
// greenrpc::Auth<User> (optional) or greenrpc::AuthRequired<User> (mandatory).
//   auth_server [--host H] [--port N]     serves until Ctrl-C (default 127.0.0.1:7777)
//   auth_server --self-test               serves on a free port, runs the client part, exits 0/1
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "api.hpp"
#include "client.hpp"

// The user table, keyed by password. A real server would look up a hashed token and compare in
// constant time; a constant map keeps the sample short (and needs no locking: it is never written).
static const std::map<std::string, User, std::less<>> users_by_password = {
    {"alice-secret", User{"alice", false}},
    {"root-secret", User{"root", true}},
};

static const std::map<std::string, std::string, std::less<>> secrets = {
    {"motd", "the cake is a lie"},
    {"wifi", "correct horse battery staple"},
};

greenrpc::App make_app() {
  greenrpc::App app;

  // Called for every AUTH (the client sends it on connect when ClientOptions::password is set).
  // A value authenticates the connection and is kept for its lifetime; nullopt refuses the AUTH
  // with PERMISSION_DENIED. The function must return std::optional<T> where T is exactly the type
  // the handlers ask for in Auth<T> / AuthRequired<T> (a mismatch is not caught at compile time).
  // (Take (std::string_view user, std::string_view password) for AUTH <user> <password>.)
  app.auth([](std::string_view password) -> std::optional<User> {
    auto it = users_by_password.find(password);
    if (it == users_by_password.end()) return std::nullopt;
    return it->second;
  });

  // Auth<User>: filled when the connection is authenticated, empty otherwise. The command is open.
  app.command(whoami, [](greenrpc::Auth<User> user) -> std::optional<User> {
    if (!user) return std::nullopt;
    return *user;
  });

  // AuthRequired<User>: the framework answers PERMISSION_DENIED before decoding any argument when
  // the connection has not authenticated, so the handler always has a user.
  app.command(read_secret, [](greenrpc::AuthRequired<User> user, std::string key) {
    auto it = secrets.find(key);
    if (it == secrets.end()) throw greenrpc::CommandError("NOT_FOUND", "no secret named " + key);
    std::printf("[server] %s read secret '%s'\n", user->name.c_str(), key.c_str());
    return it->second;
  });

  // Finer rules (roles, ownership) stay in the handler: throw a CommandError with the same code
  // and the client sees the same greenrpc::PermissionDeniedError.
  app.command(list_users, [](greenrpc::AuthRequired<User> user) {
    if (!user->admin)
      throw greenrpc::CommandError(std::string(greenrpc::error_code::permission_denied), "admins only");
    std::vector<std::string> names;
    for (const auto& [password, u] : users_by_password) names.push_back(u.name);
    return names;
  });
  return app;
}

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;  // 127.0.0.1:7777 by default
  bool self_test = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--self-test") self_test = true;
    else if (arg == "--port" && i + 1 < argc) options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (arg == "--host" && i + 1 < argc) options.host = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--self-test]\n", argv[0]);
      return 2;
    }
  }

  greenrpc::App app = make_app();
  if (self_test) {
    options.port = 0;  // any free port
    greenrpc::Server server = app.start_background(options);
    bool ok = run_client(options.host, server.port());
    server.stop();
    std::printf("auth self-test %s\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
  }
  std::printf("auth server on %s:%u (passwords: alice-secret, root-secret)\n", options.host.c_str(), options.port);
  std::fflush(stdout);
  app.run(options);  // until Ctrl-C / SIGTERM
}
