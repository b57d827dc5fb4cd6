#pragma once
// One RESP client connection: a single fiber that reads, parses every complete frame in the
// buffer, hands each request to the Dispatcher, and writes all their replies with one write
// (helio's HandleRequests loop + brpc's batching). Only framing lives here: routing, the envelope
// and reply shapes are the Dispatcher's; reply bytes are RespReplyEncoder's.
#include <cstdint>
#include <memory>
#include <string>

#include "dispatcher.hpp"
#include "greenrpc/net/byte_stream.hpp"
#include "greenrpc/protocol/read_buffer.hpp"
#include "greenrpc/protocol/request_parser.hpp"
#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/server/connection_info.hpp"
#include "protocol_handler.hpp"
#include "resp_reply_encoder.hpp"

namespace greenrpc {

class Worker;
class ServerCore;

class RespConnection final : public ProtocolHandler {
 public:
  RespConnection(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id);
  ~RespConnection() override;

  RunResult run(const Wakeup& wakeup) noexcept override;
  bool await_input(const Wakeup& wakeup) override;
  void stop_awaiting_input() noexcept override { stream_->stop_notify_readable(); }
  bool needs_fiber(Waiter::Result why) const override;
  bool drain_dormant(const Wakeup& wakeup) override;
  void drain() override;
  void cut() override;
  std::string describe_running(Clock::time_point now) const override { return dispatcher_.describe_running(now); }
  std::size_t buffered_bytes() const override { return accounted_; }
  void evict(std::string_view reason) override;
  std::string close_reason() const override;
  const Endpoint* peer() const noexcept override { return &info_.peer; }

 private:
  // Returns true when it went dormant (wakeup armed), false when the connection is to close.
  bool serve(const Wakeup& wakeup);
  // Idle, nothing buffered, no stop in progress: arms `wakeup` and releases the buffers. False
  // when input may be there already (read it) or the connection must stay (a stop, an expired
  // idle deadline, release_idle_fibers off).
  bool go_dormant(const Wakeup& wakeup);
  // The idle timeout counts from when the connection last became idle (a dormant connection
  // woken by a spurious event keeps its deadline).
  Deadline idle_deadline();
  // Reads more input: at most until the idle timeout (buffer empty) or the frame deadline (a
  // request begun). Once draining, only what already arrived (never parks). kLingerOver when
  // idle for idle_fiber_linger: time to go dormant.
  static constexpr std::size_t kLingerOver = SIZE_MAX;
  std::size_t read_more(std::span<char> space);
  // Reports the buffers' size to the worker's client memory budget when it changed.
  void account();
  // Ends the connection with "-<code> <message>" when the peer can still take it.
  void close_with_error(std::string_view message);
  // After the last reply: FIN, then the peer's unread bytes read and dropped for a moment, so a
  // reset does not destroy replies the peer has not read yet.
  void close_politely();
  // A failed TLS handshake: warned with the peer and the reason, rate-limited (GREENRPC_LOG_LIMITED).
  void log_handshake_failure(const std::string& failure);

  ServerCore& core_;
  std::unique_ptr<ByteStream> stream_;
  ConnectionInfo info_;
  protocol::RequestParser parser_;
  protocol::ReadBuffer in_;
  std::string out_;
  RespReplyEncoder reply_{out_};
  Dispatcher dispatcher_;
  Worker& worker_;
  std::size_t read_hint_ = 4096;  // free space asked of the buffer before each read
  std::size_t accounted_ = 0;     // bytes of in_ and out_ last reported to the worker
  // The connection fiber's own cancellation (a handler runs under its request's token instead):
  // ends a parked read for an eviction or a drain without poisoning the stream, so a reply and a
  // polite close can still follow.
  std::shared_ptr<CancelToken> token_ = CancelToken::create();
  Deadline frame_deadline_;       // the request begun in in_ must be complete by then
  Deadline idle_deadline_;        // valid while idle_deadline_set_
  bool idle_deadline_set_ = false;
  bool started_ = false;          // run() has made the connection's state
  bool handshaken_ = false;       // the stream's handshake (TLS) completed
  bool closed_ = false;           // run() closed the stream
  bool may_sleep_ = false;        // this run() has a Wakeup to go dormant with
  bool linger_over_ = false;      // idle for idle_fiber_linger: go dormant
  std::string evicted_;           // why, once evicted
  std::string close_reason_;      // why run() closed it, for the worker's "connection closed" line
  bool idle_ = false;      // parked in read with nothing buffered
  bool draining_ = false;
  bool cut_ = false;
};

}  // namespace greenrpc
