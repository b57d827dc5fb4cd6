#pragma once
// What a client call can throw, besides ConnectError (net/errors.hpp) and TimeoutError
// (runtime/errors.hpp).
#include <string>

#include "greenrpc/net/errors.hpp"

namespace greenrpc {

// The server answered with an error reply "-CODE message".
class RemoteError : public Error {
 public:
  RemoteError(std::string code, std::string message)
      : Error(code + (message.empty() ? "" : " " + message)), code_(std::move(code)), message_(std::move(message)) {}
  const std::string& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string code_;
  std::string message_;
};

// PERMISSION_DENIED: AUTH failed, or the command requires an authenticated connection.
class PermissionDeniedError : public RemoteError {
 public:
  using RemoteError::RemoteError;
};

// VALIDATION_ERROR or INVALID_MSGPACK: an argument was refused. location() is the JSON array
// (e.g. ["add","b"]) naming the argument.
class ValidationError : public RemoteError {
 public:
  ValidationError(std::string code, std::string message);
  const std::string& location() const noexcept { return location_; }

 private:
  std::string location_;
};

// INVALID_COMMAND: the server has no such command.
class UnknownCommandError : public RemoteError {
 public:
  using RemoteError::RemoteError;
};

// NUM_ARG_MISMATCH: wrong number of arguments for the command.
class ArgumentCountError : public RemoteError {
 public:
  using RemoteError::RemoteError;
};

// The connection broke while the call was in flight: the server may or may not have run it.
class ConnectionLostError : public IoError {
 public:
  using IoError::IoError;
};

// Message signing failed (arrpc's AuthException): the server refused the request (its
// auth_secret is missing on this client, differs, or the request was replayed), or a reply's
// signature did not match (altered in transit, or the server signs with another secret).
class AuthError : public Error {
 public:
  using Error::Error;
};

// DeadlineExceededError (runtime/errors.hpp): the server answered DEADLINE_EXCEEDED, or the
// calling handler's own deadline passed while the call waited.

// The reply could not be decoded as the expected result type.
class ReplyTypeError : public Error {
 public:
  using Error::Error;
};

}  // namespace greenrpc
