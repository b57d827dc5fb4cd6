#include "greenrpc/client/pending_call.hpp"

#include "greenrpc/client/errors.hpp"
#include "greenrpc/rpc/command_error.hpp"
#include "greenrpc/rpc/error_codes.hpp"

namespace greenrpc {

ValidationError::ValidationError(std::string code, std::string message)
    : RemoteError(std::move(code), std::move(message)) {
  const std::string& m = this->message();
  location_ = m.substr(0, m.find(' '));
}

namespace detail {

void throw_remote_error(const std::string& line, const ErrorMap* errors) {
  auto space = line.find(' ');
  std::string code = line.substr(0, space);
  std::string message = space == std::string::npos ? std::string() : line.substr(space + 1);
  if (errors) {
    auto it = errors->find(code);
    if (it != errors->end()) it->second(code, message);  // throws the user's type
  }
  if (code == error_code::permission_denied) throw PermissionDeniedError(std::move(code), std::move(message));
  if (code == error_code::validation_error || code == error_code::invalid_msgpack)
    throw ValidationError(std::move(code), std::move(message));
  if (code == error_code::invalid_command) throw UnknownCommandError(std::move(code), std::move(message));
  if (code == error_code::num_arg_mismatch) throw ArgumentCountError(std::move(code), std::move(message));
  if (code == error_code::rpc_error) throw RpcError(message);
  if (code == error_code::auth_error) throw AuthError("server refused the request: " + message);
  if (code == error_code::deadline_exceeded) throw DeadlineExceededError(message);
  throw RemoteError(std::move(code), std::move(message));
}

const protocol::RespValue& await_reply(PendingCall& call) {
  struct Abandon {  // the caller stops waiting (timeout, cancellation): the I/O loop skips the call
    PendingCall& c;
    bool armed = true;
    ~Abandon() {
      if (armed) c.abandoned.store(true, std::memory_order_relaxed);
    }
  } abandon{call};
  if (!call.done->wait(call.deadline)) {
    if (call.deadline_inherited) throw DeadlineExceededError("call cut short: the calling request's deadline passed");
    throw TimeoutError("call timed out");
  }
  abandon.armed = false;
  if (call.failure) std::rethrow_exception(call.failure);
  if (call.reply.type == protocol::RespValue::Type::error) throw_remote_error(call.reply.str, call.errors.get());
  return call.reply;
}

}  // namespace detail
}  // namespace greenrpc
