#pragma once
// Errors that travel as an error reply "-<CODE> <message as a JSON string>" (docs/protocol.md §3).
// A handler throws one to choose the code; any other exception becomes
// UNEXPECTED_ERROR "<what()>", as Tino answers. The connection stays open. A
// client can map a code back to the same C++ type (Client::map_error), so a remote error rethrows
// as the type the handler threw.
#include <string>
#include <string_view>

#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/runtime/errors.hpp"

namespace greenrpc {

class CommandError : public Error {
 public:
  // `code` is one word, conventionally UPPER_SNAKE_CASE (spaces and control characters in it are
  // sent as '_').
  CommandError(std::string_view code, const std::string& message) : Error(message), code_(code) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// arrpc's RpcException: thrown by a handler, rethrown by the client with the same message.
class RpcError : public CommandError {
 public:
  explicit RpcError(const std::string& message) : CommandError(error_code::rpc_error, message) {}
};

}  // namespace greenrpc
