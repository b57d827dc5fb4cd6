#pragma once
// The auth client part, shared by auth_client and `auth_server --self-test`: three connections
// (anonymous, a user, an admin) and a wrong password. Returns false when a result is not the
// expected one.
#include <cstdio>
#include <string>

#include "api.hpp"

inline bool run_client(const std::string& host, std::uint16_t port) {
  bool ok = true;
  auto expect = [&ok](bool condition, const char* what) {
    std::printf("  %s %s\n", condition ? "ok  " : "FAIL", what);
    ok = ok && condition;
  };

  try {
    // No password: an anonymous connection. Open commands work, AuthRequired ones are refused.
    std::puts("anonymous client:");
    greenrpc::Client anonymous{host, port};
    expect(!anonymous.call(whoami).has_value(), "whoami() == nullopt");
    try {
      anonymous.call(read_secret, "motd");
      expect(false, "read_secret(\"motd\") is refused");
    } catch (const greenrpc::PermissionDeniedError& e) {
      std::printf("  read_secret refused: %s\n", e.what());  // "PERMISSION_DENIED authentication required"
      expect(true, "read_secret(\"motd\") is refused");
    }

    // ClientOptions::password: the client sends AUTH on every (re)connect, before any call.
    std::puts("alice (password alice-secret):");
    greenrpc::Client alice{host, port, greenrpc::ClientOptions{.password = "alice-secret"}};
    std::optional<User> me = alice.call(whoami);
    expect(me && me->name == "alice" && !me->admin, "whoami() == alice, not admin");
    expect(alice.call(read_secret, "motd") == "the cake is a lie", "read_secret(\"motd\")");
    try {
      alice.call(list_users);
      expect(false, "list_users() is refused to a non-admin");
    } catch (const greenrpc::PermissionDeniedError& e) {
      std::printf("  list_users refused: %s\n", e.what());
      expect(true, "list_users() is refused to a non-admin");
    }
    try {
      alice.call(read_secret, "nope");
      expect(false, "read_secret(\"nope\") fails with NOT_FOUND");
    } catch (const greenrpc::RemoteError& e) {  // any CommandError code arrives as a RemoteError
      expect(e.code() == "NOT_FOUND", "read_secret(\"nope\") fails with NOT_FOUND");
    }

    std::puts("root (password root-secret):");
    greenrpc::Client root{host, port, greenrpc::ClientOptions{.password = "root-secret"}};
    auto names = root.call(list_users);
    expect(names == std::vector<std::string>{"alice", "root"}, "list_users() == [alice, root]");

    // A wrong password fails the connection's AUTH handshake: the first call (and every call
    // after it, since each one reconnects and retries AUTH) throws PermissionDeniedError.
    std::puts("mallory (wrong password):");
    greenrpc::Client mallory{host, port, greenrpc::ClientOptions{.password = "guess"}};
    try {
      mallory.call(whoami);
      expect(false, "a wrong password is refused");
    } catch (const greenrpc::PermissionDeniedError& e) {
      std::printf("  AUTH refused: %s\n", e.what());
      expect(true, "a wrong password is refused");
    }
  } catch (const greenrpc::Error& e) {
    std::printf("  FAIL unexpected error: %s\n", e.what());
    return false;
  }
  return ok;
}
