#pragma once
// One connection speaking one protocol (RESP, a sniffed one...): the body of the connection's
// fiber plus the two stop hooks the worker calls. The worker owns it for the fiber's lifetime and
// keeps it in its set of connections (Worker::attach/detach) so drain and cut reach it.
#include <cstddef>
#include <string>
#include <string_view>

#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

class ProtocolHandler {
 public:
  virtual ~ProtocolHandler() = default;

  // The fiber body: serves until the peer leaves, a stop, or an error; closes the stream.
  virtual void run() noexcept = 0;
  // Graceful stop: close now when idle between requests, else after the current batch.
  virtual void drain() = 0;
  // Immediate stop: wake any parked read or write with CancelledError; queued requests are not
  // started.
  virtual void cut() = 0;
  // " conn=<id> peer=<addr> command=<name> running_ms=<age>" per request still running, for the
  // log of a stop that had to give up on it; empty when none runs.
  virtual std::string describe_running(Clock::time_point /*now*/) const { return {}; }
  // Bytes this connection holds in buffers (requests and replies), for the server's client
  // memory budget.
  virtual std::size_t buffered_bytes() const { return 0; }
  // Closes the connection to free its buffers, telling the peer `reason` if it can. Owner
  // thread; the connection's fiber does the closing.
  virtual void evict(std::string_view /*reason*/) {}
};

}  // namespace greenrpc
