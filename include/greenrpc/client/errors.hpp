#pragma once
// What a client call can throw, besides ConnectError (net/errors.hpp) and TimeoutError
// (runtime/errors.hpp).
#include <string>

#include "greenrpc/net/errors.hpp"
#include "greenrpc/rpc/error_report.hpp"

namespace greenrpc {

// The server answered with an error reply. code() is its first word; message() what a person
// reads: the first JSON string after the code in Tino's layout (UNEXPECTED_ERROR "division by
// zero" gives "division by zero"), or the free text of Redis-style lines (ERR ..., INVALID_COMMAND
// <name>); empty for a bare code (NUM_ARG_MISMATCH, PERMISSION_DENIED). line() is the reply's
// text exactly as the server sent it (without '-' and CRLF), for tools that show it whole.
class RemoteError : public Error {
 public:
  RemoteError(std::string code, std::string message, std::string line = {})
      : Error(code + (message.empty() ? "" : " " + message)),
        code_(std::move(code)),
        message_(std::move(message)),
        line_(std::move(line)) {}
  const std::string& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // As sent; for an error built without one (a user's mapped type), "<code> <message>".
  std::string line() const { return line_.empty() ? what() : line_; }

 private:
  std::string code_;
  std::string message_;
  std::string line_;
};

// PERMISSION_DENIED: AUTH failed, or the command requires an authenticated connection.
class PermissionDeniedError : public RemoteError {
 public:
  using RemoteError::RemoteError;
};

// VALIDATION_ERROR or INVALID_MSGPACK: an argument was refused.
//   location(): the whole path, as Tino writes it: {"command", "b", "value"} — the literal
//     "command", the argument's name (its index when the command declares none), then fields,
//     list indexes and map keys inside it ("__key__" when a map key itself is invalid).
//   message(): pydantic 1's msg ("value is not a valid integer", "invalid msgpack").
//   type(): pydantic 1's error type ("type_error.integer"); empty for INVALID_MSGPACK.
class ValidationError : public RemoteError {
 public:
  ValidationError(std::string code, std::string message, ErrorPath location, std::string type, std::string line = {})
      : RemoteError(std::move(code), std::move(message), std::move(line)),
        location_(std::move(location)),
        type_(std::move(type)) {}
  const ErrorPath& location() const noexcept { return location_; }
  const std::string& type() const noexcept { return type_; }

 private:
  ErrorPath location_;
  std::string type_;
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
