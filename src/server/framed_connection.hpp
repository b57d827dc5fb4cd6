#pragma once
// What every request/reply connection shares, whatever its wire (RESP, arrpc): a single fiber that
// reads into a ReadBuffer, has the protocol frame and dispatch every complete request in the
// buffer, and writes all their replies with one write (helio's HandleRequests loop + brpc's
// batching). Here: the stream's handshake (TLS), dormancy while idle, the idle, frame and write
// deadlines, the query and output buffer limits, the client memory budget, drain, cut, eviction
// and the polite close. A protocol adds only its framing (next_frame) and its reply bytes (its
// ReplyEncoder, writing to out_).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dispatcher.hpp"
#include "greenrpc/net/byte_stream.hpp"
#include "greenrpc/protocol/read_buffer.hpp"
#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/server/connection_info.hpp"
#include "protocol_handler.hpp"

namespace greenrpc {

class Worker;
class ServerCore;

class FramedConnection : public ProtocolHandler {
 public:
  ~FramedConnection() override;

  RunResult run(const Wakeup& wakeup) noexcept final;
  bool await_input(const Wakeup& wakeup) final;
  void stop_awaiting_input() noexcept final { stream_->stop_notify_readable(); }
  bool needs_fiber(Waiter::Result why) const final;
  bool drain_dormant(const Wakeup& wakeup) final;
  void drain() final;
  void cut() final;
  std::string describe_running(Clock::time_point now) const final { return dispatcher_.describe_running(now); }
  std::size_t buffered_bytes() const final { return accounted_; }
  void evict(std::string_view reason) final;
  std::string close_reason() const final;
  const Endpoint* peer() const noexcept final { return &info_.peer; }

 protected:
  FramedConnection(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id);

  // What next_frame() did with the front of in_.
  enum class Frame {
    incomplete,  // no complete request there yet: read more
    served,      // one request dispatched (its reply in out_) and consumed
    last,        // served, and the connection closes after this batch (QUIT)
    error,       // the stream cannot be framed: an error reply is in out_ (and close_reason_ set);
                 // the batch's replies are written, then the connection closes
  };
  // Frames the request at the front of in_, hands it to dispatcher_ with its encoder and consumes
  // it (after dispatch: requests may view the buffer). `arrived`: when its bytes were read.
  virtual Frame next_frame(Clock::time_point arrived) = 0;
  // The protocol's encoder (appending to out_): close_with_error() answers through it.
  virtual ReplyEncoder& replies() noexcept = 0;
  // For next_frame(): the stream cannot be framed (`message`, "Protocol error: ..."). Counts it,
  // answers it (code ERR) through replies(), records it as the close reason; Frame::error.
  Frame framing_failed(const std::string& message);
  // Bytes the protocol holds beyond in_ and out_ (parser lists, side buffers), for the budget.
  virtual std::size_t protocol_memory_bytes() const noexcept { return 0; }
  // Forgets a partial frame and gives back every protocol buffer (dormant, evicted, closed).
  virtual void release_protocol_buffers() = 0;
  // Between frames: gives back parser lists grown large by one huge request.
  virtual void shrink_protocol_buffers_if_idle() {}
  // After a batch: gives back reply side buffers grown past a few pages.
  virtual void release_large_protocol_buffers() {}
  // A reply payload the encoder left out of out_ (written from the dispatcher's result buffer,
  // without a copy): it belongs at offset `at` of out_ and stays valid until the next request is
  // dispatched. Written before that. None by default.
  struct DeferredReply {
    std::size_t at = 0;
    std::string_view bytes;
  };
  virtual DeferredReply take_deferred() noexcept { return {}; }
  virtual std::size_t deferred_size() const noexcept { return 0; }

  ServerCore& core_;
  std::unique_ptr<ByteStream> stream_;
  ConnectionInfo info_;
  protocol::ReadBuffer in_;
  std::string out_;
  Dispatcher dispatcher_;
  Worker& worker_;
  std::string close_reason_;  // why run() closed it, for the worker's "connection closed" line

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
  // Writes out_ (and a deferred payload in its place) within the write deadline.
  void flush();
  // Reports the buffers' size to the worker's client memory budget when it changed.
  void account();
  // Ends the connection with the protocol's error reply (code ERR, `message`) when the peer can
  // still take it.
  void close_with_error(std::string_view message);
  // After the last reply: FIN, then the peer's unread bytes read and dropped for a moment, so a
  // reset does not destroy replies the peer has not read yet.
  void close_politely();

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
  bool state_made_ = false;       // App::state_factory's state made (after the handshake)
  bool closed_ = false;           // run() closed the stream
  bool may_sleep_ = false;        // this run() has a Wakeup to go dormant with
  bool linger_over_ = false;      // idle for idle_fiber_linger: go dormant
  std::string evicted_;           // why, once evicted
  bool idle_ = false;      // parked in read with nothing buffered
  bool draining_ = false;
  bool cut_ = false;
};

}  // namespace greenrpc
