#pragma once
// The Redis-compatible built-ins that let real Redis clients, proxies and health checks talk to a
// greenrpc server: PING, ECHO, QUIT, AUTH, HELLO, CLIENT, SELECT, INFO, COMMAND.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "greenrpc/envelope/envelope.hpp"
#include "greenrpc/rpc/reply_encoder.hpp"
#include "greenrpc/server/connection_info.hpp"
#include "server_core.hpp"

namespace greenrpc {

struct BuiltinCall {
  std::span<const std::string_view> args;  // args[0] is the command name as sent
  ConnectionInfo& conn;
  const ServerCore& core;
  ReplyEncoder& reply;
  WorkerMetrics* metrics = nullptr;  // the serving worker's (AUTH failures)
  bool close_after = false;  // QUIT
};

struct BuiltinCommand {
  std::string_view name;  // lower-case
  BuiltinFn fn;
  bool reserved;  // user commands may not take this name
  int arity;      // Redis convention: N exact, -N at least N (name included)
  std::string_view summary;
};

// Every built-in, reserved ones first.
std::span<const BuiltinCommand> builtin_commands();

// Gives the connection its random nonce if it has none yet.
void ensure_nonce(ConnectionInfo& conn);

}  // namespace greenrpc
