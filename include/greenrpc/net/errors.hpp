#pragma once
// Errors raised by byte streams and connection setup.
#include <string>

#include "greenrpc/runtime/errors.hpp"

namespace greenrpc {

// A system call on a socket failed; `code()` is the errno value (0 when not from a syscall).
class IoError : public Error {
 public:
  IoError(const std::string& what, int code) : Error(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// No connection could be made (refused, unreachable, name not resolved, connect timeout...).
class ConnectError : public IoError {
 public:
  using IoError::IoError;
};

}  // namespace greenrpc
