#pragma once
// Thrown by a handler to send a specific error reply: "-<code> <message>". Any other exception
// becomes "UNEXPECTED_ERROR <what()>". The connection always stays open.
#include <string>
#include <string_view>

#include "greenrpc/runtime/errors.hpp"

namespace greenrpc {

class CommandError : public Error {
 public:
  // `code` is one word, conventionally UPPER_SNAKE_CASE.
  CommandError(std::string code, const std::string& message) : Error(message), code_(std::move(code)) {}
  CommandError(std::string_view code, const std::string& message) : Error(message), code_(code) {}
  CommandError(const char* code, const std::string& message) : Error(message), code_(code) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

}  // namespace greenrpc
