#pragma once
// One request in flight: its bytes, and the slot its reply (or failure) lands in. Shared between
// the caller (any thread or fiber) and the client's I/O loop.
#include <atomic>
#include <exception>
#include <memory>
#include <string>

#include "greenrpc/protocol/reply_parser.hpp"
#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"

namespace greenrpc::detail {

struct PendingCall {
  std::string frame;                 // the RESP request
  Deadline deadline;
  protocol::RespValue reply;         // valid once `done` is set and `failure` is null
  std::exception_ptr failure;        // connect/connection errors
  std::shared_ptr<OneShotEvent> done = OneShotEvent::create();
  // Set by a caller that stopped waiting (timeout): the I/O loop skips it if not yet sent, and
  // drops its reply when it comes (so it is never handed to another call).
  std::atomic<bool> abandoned{false};
};

// Waits for the call until its deadline; returns its reply or throws its failure, TimeoutError,
// or the RemoteError subclass matching an error reply.
const protocol::RespValue& await_reply(PendingCall& call);
// Throws the typed exception for an error reply ("-CODE message").
[[noreturn]] void throw_remote_error(const std::string& error_line);

}  // namespace greenrpc::detail
