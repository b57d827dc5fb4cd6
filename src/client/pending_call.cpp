#include "greenrpc/client/pending_call.hpp"

#include "greenrpc/client/errors.hpp"
#include "greenrpc/rpc/command_error.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/rpc/error_line.hpp"

namespace greenrpc {

namespace detail {

void throw_remote_error(const std::string& line, const ErrorMap* errors) {
  ErrorLine parsed = parse_error_line(line);
  std::string code = std::move(parsed.code);
  std::string message = parsed.message();
  if (errors) {
    auto it = errors->find(code);
    if (it != errors->end()) it->second(code, message);  // throws the user's type
  }
  if (code == error_code::permission_denied) throw PermissionDeniedError(std::move(code), std::move(message), line);
  if (code == error_code::validation_error || code == error_code::invalid_msgpack) {
    // Tino's layout: location, msg, then (validation only) type.
    std::string type = parsed.strings.size() > 1 ? std::move(parsed.strings[1]) : std::string();
    throw ValidationError(std::move(code), std::move(message), parsed.location.value_or(ErrorPath{}), std::move(type),
                          line);
  }
  if (code == error_code::invalid_command) throw UnknownCommandError(std::move(code), std::move(message), line);
  if (code == error_code::num_arg_mismatch) throw ArgumentCountError(std::move(code), std::move(message), line);
  if (code == error_code::rpc_error) throw RpcError(message);
  if (code == error_code::auth_error) throw AuthError("server refused the request: " + message);
  if (code == error_code::deadline_exceeded) throw DeadlineExceededError(message);
  throw RemoteError(std::move(code), std::move(message), line);
}

std::exception_ptr deadline_failure(const PendingCall& call) {
  if (call.deadline_inherited)
    return std::make_exception_ptr(DeadlineExceededError("call cut short: the calling request's deadline passed"));
  return std::make_exception_ptr(TimeoutError("call timed out"));
}

const protocol::RespValue& await_reply(PendingCall& call) {
  struct Abandon {  // the caller stops waiting (timeout, cancellation): the I/O loop skips the call
    PendingCall& c;
    bool armed = true;
    ~Abandon() {
      if (armed) c.abandoned.store(true, std::memory_order_relaxed);
    }
  } abandon{call};
  if (!call.done->wait(call.deadline)) std::rethrow_exception(deadline_failure(call));
  abandon.armed = false;
  if (call.failure) std::rethrow_exception(call.failure);
  if (call.reply.type == protocol::RespValue::Type::error) throw_remote_error(call.reply.str, call.errors.get());
  return call.reply;
}

}  // namespace detail
}  // namespace greenrpc
