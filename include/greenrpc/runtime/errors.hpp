#pragma once
// The root of greenrpc's exception hierarchy, and the errors every layer can raise.
#include <stdexcept>
#include <string>

namespace greenrpc {

// Base of every exception greenrpc throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A deadline passed before the operation completed.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// The deadline of the request being served passed: inherited by a wait inside a handler (or a
// fiber or run_blocking job it started), or answered by a server as DEADLINE_EXCEEDED.
class DeadlineExceededError : public TimeoutError {
 public:
  using TimeoutError::TimeoutError;
};

// The operation was abandoned because its runtime, server or connection is shutting down, or
// the request it served was cancelled.
class CancelledError : public Error {
 public:
  using Error::Error;
};

}  // namespace greenrpc
