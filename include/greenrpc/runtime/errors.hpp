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

// The operation was abandoned because its runtime, server or connection is shutting down.
class CancelledError : public Error {
 public:
  using Error::Error;
};

}  // namespace greenrpc
