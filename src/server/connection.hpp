#pragma once
// One client connection: a single fiber that reads, parses every complete frame in the buffer,
// runs the commands in order, and writes all their replies with one write (helio's
// HandleRequests loop + brpc's batching).
#include <memory>
#include <string>

#include "greenrpc/net/byte_stream.hpp"
#include "greenrpc/protocol/request_parser.hpp"
#include "greenrpc/server/connection_info.hpp"
#include "greenrpc/protocol/read_buffer.hpp"

namespace greenrpc {

class Worker;
class ServerCore;

class Connection {
 public:
  Connection(Worker& worker, std::unique_ptr<ByteStream> stream);
  ~Connection();

  // The fiber body. Never throws.
  void run() noexcept;
  // Graceful stop: close now when idle between requests, else after the current batch.
  void drain();
  // Immediate stop: wake any parked read or write with CancelledError.
  void cut();
  // " conn=<id> peer=<addr> command=<name> running_ms=<age>" for a request still running, else "".
  std::string describe_running(Clock::time_point now) const;


 private:
  void serve();
  // Runs one request; returns false when the connection must close after flushing.
  bool dispatch(std::span<const std::string_view> args);
  bool dispatch_enveloped(std::span<const std::string_view> args);
  bool run(std::span<const std::string_view> args, Deadline deadline, bool signed_request);
  bool reply_error(std::string_view code, std::string_view message);

  Worker& worker_;
  ServerCore& core_;
  std::unique_ptr<ByteStream> stream_;
  ConnectionInfo info_;
  protocol::RequestParser parser_;
  protocol::ReadBuffer in_;
  std::string out_;
  std::string scratch_;
  Clock::time_point arrived_;     // when the bytes being processed were read
  std::size_t read_hint_ = 4096;  // free space asked of the buffer before each read
  std::string_view running_command_;  // the user command running now (registry-owned name)
  Clock::time_point running_since_;
  bool idle_ = false;      // parked in read with nothing buffered
  bool draining_ = false;
  bool cut_ = false;
};

}  // namespace greenrpc
