#pragma once
// One request in flight: its bytes, and the slot its reply (or failure) lands in. Shared between
// the caller (any thread or fiber) and the client's I/O loop.
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "greenrpc/protocol/reply_parser.hpp"
#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"

namespace greenrpc::detail {

// Error code → a function that throws the matching exception (Client::map_error).
using ErrorThrower = std::function<void(const std::string& code, const std::string& message)>;
using ErrorMap = std::unordered_map<std::string, ErrorThrower>;

struct PendingCall {
  // The request's elements as RESP bulk strings: the command name, then one msgpack value per
  // argument. The I/O loop adds the array header and, when needed, the envelope.
  std::string body;
  std::uint32_t elements = 0;
  Deadline deadline;          // the tighter of the call's timeout and the calling handler's deadline
  bool deadline_inherited = false;  // the handler's deadline was the tighter: expiry is DeadlineExceededError
  bool idempotent = false;
  unsigned attempts = 0;      // sends that reached a server and were lost there (counted when lost)
  unsigned refusals = 0;      // SHUTTING_DOWN answers: sends a stopping server did not start
  std::uint64_t wire_end = 0; // where its frame ends in its connection's byte stream
  std::uint64_t seq = 0;      // signed: sequence number of the latest send
  std::shared_ptr<const ErrorMap> errors;
  std::size_t command_index = 0;  // its metrics label (ClientMetrics)
  Clock::time_point started{};    // when it was submitted (the latency histogram)

  protocol::RespValue reply;         // valid once `done` is set and `failure` is null
  std::exception_ptr failure;        // connect/connection/signature errors
  std::shared_ptr<OneShotEvent> done = OneShotEvent::create();
  // Set by a caller that stopped waiting (timeout): the I/O loop skips it if not yet sent, and
  // drops its reply when it comes (so it is never handed to another call).
  std::atomic<bool> abandoned{false};
};

// The exception a call whose deadline has passed ends with: TimeoutError for its own timeout,
// DeadlineExceededError when the calling request's deadline was the tighter.
std::exception_ptr deadline_failure(const PendingCall& call);
// Waits for the call until its deadline; returns its reply or throws its failure, TimeoutError,
// or the exception an error reply maps to.
const protocol::RespValue& await_reply(PendingCall& call);
// Throws the typed exception for an error reply ("-CODE message"): a mapped type first, then
// the built-in mapping (PermissionDeniedError, ValidationError, AuthError, RpcError...).
[[noreturn]] void throw_remote_error(const std::string& error_line, const ErrorMap* errors = nullptr);

}  // namespace greenrpc::detail
