#include "framed_connection.hpp"

#include "greenrpc/net/errors.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber_properties.hpp"
#include "greenrpc/runtime/log.hpp"
#include "heap_bytes.hpp"
#include "server_core.hpp"
#include "server_handshake.hpp"
#include "worker.hpp"

namespace greenrpc {
namespace {

// Replies beyond this size are flushed mid-batch, so a deep pipeline of large replies does not
// pile up in memory.
constexpr std::size_t kFlushThreshold = 1 << 20;
constexpr std::size_t kMaxReadHint = 32 * 1024;
constexpr std::size_t kKeptBuffer = 64 * 1024;

Deadline deadline_after(std::chrono::milliseconds ms) {
  return ms.count() > 0 ? Deadline::after(ms) : Deadline::never();
}

}  // namespace

FramedConnection::FramedConnection(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id)
    : core_(worker.core()),
      stream_(std::move(stream)),
      dispatcher_(core_, info_, worker.commands, worker.metrics),
      worker_(worker) {
  info_.id = id;
  info_.peer = stream_->peer();
  info_.worker = worker.index();
  // A tree a handler's arguments are about to build is charged at once: the budget may evict
  // this connection (or the largest) before the tree exists.
  dispatcher_.on_memory_grew([this] {
    account();
    return evicted_.empty();
  });
}

FramedConnection::~FramedConnection() {
  // A dormant connection that a stop closes without a fiber (its quiet window passed): over TLS,
  // the close_notify run()'s polite close sends, or the peer reads a truncated stream (an
  // "unexpected EOF" to most TLS clients). Best effort and never waiting: a deadline already
  // passed, and only from a fiber (the worker's reaper), not from the scheduler.
  if (handshaken_ && !closed_ && draining_ && info_.tls && FiberProperties::current(/*create=*/true)) {
    try {
      stream_->shutdown(Deadline(Clock::time_point::min()));
    } catch (const std::exception&) {  // it closes all the same
    }
  }
  // Closed without run() ending it (a dormant connection that could not get a fiber): what it
  // still counts in the budget goes back.
  if (const std::size_t bytes = std::exchange(accounted_, 0); bytes != 0)
    worker_.buffered_changed(budget_key(), -static_cast<std::ptrdiff_t>(bytes));
}

Deadline FramedConnection::idle_deadline() {
  if (!idle_deadline_set_) {
    idle_deadline_ = deadline_after(core_.options().idle_timeout);
    idle_deadline_set_ = true;
  }
  return idle_deadline_;
}

bool FramedConnection::await_input(const Wakeup& wakeup) {
  return core_.options().release_idle_fibers && stream_->notify_readable(idle_deadline(), wakeup.ready, wakeup.arg);
}

bool FramedConnection::go_dormant(const Wakeup& wakeup) {
  const ServerOptions& opts = core_.options();
  if (!may_sleep_ || in_.size() != 0 || draining_ || cut_ || !evicted_.empty()) return false;
  if (opts.idle_fiber_linger.count() > 0 && !std::exchange(linger_over_, false)) return false;
  const Deadline idle_until = idle_deadline();
  if (idle_until.expired() || !stream_->notify_readable(idle_until, wakeup.ready, wakeup.arg)) return false;
  // Armed: its call comes from a later scheduler round, after this fiber has ended. Every buffer
  // goes back, so a dormant connection counts 0 bytes in the budget (and is never evicted).
  in_ = {};
  std::string().swap(out_);
  release_protocol_buffers();
  dispatcher_.release_buffers();
  account();
  return true;
}

bool FramedConnection::needs_fiber(Waiter::Result why) const {
  // A dormant connection has nothing buffered and nothing unanswered: a timeout with nothing to
  // read only closes it, which the worker does without a fiber.
  // Nor does a new connection whose first byte never came (its idle deadline, or TLS's handshake
  // deadline, passed): there is no handshake to fail and no request to answer.
  if (why == Waiter::Result::timed_out && !started_) return false;
  return !(why == Waiter::Result::timed_out && (draining_ || (idle_deadline_set_ && idle_deadline_.expired())));
}

bool FramedConnection::drain_dormant(const Wakeup& wakeup) {
  stream_->stop_notify_readable();
  return stream_->notify_readable(Deadline::after(kDrainQuiet), wakeup.ready, wakeup.arg);
}

void FramedConnection::drain() {
  draining_ = true;
  dispatcher_.refuse_new_requests();  // what is queued, or arrives, is answered SHUTTING_DOWN
  if (idle_) token_->cancel();        // ends the idle read; the stream stays usable for a polite close
}

void FramedConnection::cut() {
  cut_ = true;
  dispatcher_.refuse_new_requests();
  if (dispatcher_.running()) {
    // The handler's waits end now; its CANCELLED reply and the SHUTTING_DOWN of the queued
    // requests are still written (within the stop's bound).
    dispatcher_.cancel_running();
  } else {
    stream_->cancel();  // parked in a read or a write: end it
  }
}

void FramedConnection::evict(std::string_view reason) {
  if (!evicted_.empty()) return;
  evicted_ = reason;
  if (!dispatcher_.running()) token_->cancel();  // a running handler finishes first; then it closes
}

std::string FramedConnection::close_reason() const {
  if (!close_reason_.empty()) return close_reason_;
  // Closed by the worker without a fiber: a dormant wait ended with nothing to read.
  if (draining_ || cut_) return "server stopping";
  return started_ ? "idle timeout" : "timed out before its first byte";
}

void FramedConnection::account() {
  const std::size_t now = in_.capacity() + heap_bytes(out_) + protocol_memory_bytes() + dispatcher_.memory_bytes();
  if (now == accounted_) return;
  const auto delta = static_cast<std::ptrdiff_t>(now) - static_cast<std::ptrdiff_t>(accounted_);
  accounted_ = now;
  worker_.buffered_changed(budget_key(), delta);
}

void FramedConnection::close_politely() {
  constexpr auto kLinger = std::chrono::milliseconds(200);
  constexpr std::size_t kMaxDrained = 1 << 20;
  // A fresh token: the connection's own may have been cancelled to end its last read.
  CancelScope scope(CancelToken::create());
  std::string failure;
  try {
    const Deadline until = Deadline::after(kLinger);
    stream_->shutdown(until);
    char sink[4096];
    std::size_t drained = 0;
    while (drained < kMaxDrained) {
      std::size_t n = stream_->read_some(std::span<char>(sink, sizeof sink), until);
      if (n == 0) break;
      drained += n;
    }
  } catch (const std::exception& e) {  // timed out, cancelled, reset: close anyway
    failure = e.what();
  }
  if (!failure.empty()) GREENRPC_LOG_FIELDS(debug, "polite close cut short", {{"conn", info_.id}, {"reason", failure}});
}

FramedConnection::Frame FramedConnection::framing_failed(const std::string& message) {
  worker_.metrics.protocol_errors.add();
  replies().redis_error(error_code::generic, message);
  close_reason_ = message;
  return Frame::error;
}

void FramedConnection::close_with_error(std::string_view message) {
  CancelScope scope(CancelToken::create());
  std::string failure;
  try {
    take_deferred();  // a large reply not sent is dropped with the rest
    out_.clear();
    replies().redis_error(error_code::generic, message);
    stream_->write_all(out_, Deadline::after(std::chrono::milliseconds(100)));
  } catch (const std::exception& e) {  // the peer does not read: it is closed all the same
    failure = e.what();
  }
  if (!failure.empty()) GREENRPC_LOG_FIELDS(debug, "error reply not sent", {{"conn", info_.id}, {"reason", failure}});
}

RunResult FramedConnection::run(const Wakeup& wakeup) noexcept {
  std::string failure;  // recorded in catch blocks, logged after them
  bool polite = false;
  {
    CancelScope scope(token_);  // drain and evict end this fiber's reads through it
    if (!started_) {
      started_ = true;
      // A stop reached it before its first byte (a ClientHello that crossed the drain): no
      // request was sent, so nothing is owed; the client reconnects elsewhere. Otherwise TLS's
      // handshake (a no-op for TCP), bounded by the stream's handshake deadline; a drain ends it
      // at once, like an idle read.
      HandshakeResult shake{false, "server stopping"};
      if (!draining_ && !cut_) {
        idle_ = true;
        shake = server_handshake(*stream_, idle_deadline(), worker_.metrics, info_.id);
        idle_ = false;
      }
      if (!shake.done) {
        // Refused or abandoned during the handshake: nothing can be said to the peer.
        close_reason_ = std::move(shake.close_reason);
        stream_->close();
        closed_ = true;
        return RunResult::closed;
      }
      handshaken_ = true;
      info_.tls = stream_->tls_info();
    }
    try {
      if (!state_made_) {  // once, after the handshake
        state_made_ = true;
        if (core_.app().make_state) info_.state = core_.app().make_state();
      }
      if (serve(wakeup)) return RunResult::dormant;
      polite = true;
    } catch (const CancelledError&) {
      polite = draining_ && !cut_;  // a drain ended an idle read: nothing unanswered, close with a FIN
      if (draining_ || cut_) close_reason_ = "server stopping";
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
  }
  if (!evicted_.empty()) {
    failure = evicted_;
    in_ = {};  // the budget already counts these bytes as released: release them first
    release_protocol_buffers();
    account();
    close_with_error(evicted_);
    polite = true;
  }
  // The worker's "connection closed" line says why.
  if (!failure.empty()) close_reason_ = std::move(failure);
  if (close_reason_.empty()) close_reason_ = "closed";
  if (polite) close_politely();  // never throws
  in_ = {};
  release_protocol_buffers();
  std::string().swap(out_);  // `out_ = {}` keeps the capacity (libstdc++): the budget would never get it back
  account();  // gives the bytes back to the budget
  stream_->close();
  closed_ = true;
  return RunResult::closed;
}

std::size_t FramedConnection::read_more(std::span<char> space) {
  const ServerOptions& opts = core_.options();
  if (cut_) return 0;  // past the grace period: nothing more is read, whatever the peer sends
  if (draining_) {
    // Before the FIN, requests that crossed the drain get SHUTTING_DOWN instead of silence: read
    // on until the peer has been quiet for a moment. A greenrpc client stops sending on a
    // connection once it has seen SHUTTING_DOWN, so an active one falls quiet at once; the cut
    // at the end of the grace period bounds it in any case.
    if (token_->cancelled()) {  // it ended the idle read: the next waits need a fresh one
      token_ = CancelToken::create();
      if (FiberProperties* props = FiberProperties::current()) props->token = token_;
    }
    try {
      return stream_->read_some(space, Deadline::after(kDrainQuiet));
    } catch (const TimeoutError&) {
      return 0;
    }
  }
  idle_ = in_.size() == 0;
  Deadline deadline = idle_ ? idle_deadline() : frame_deadline_;
  bool lingering = false;
  if (idle_ && may_sleep_ && opts.idle_fiber_linger.count() > 0) {
    const Deadline linger = Deadline::after(opts.idle_fiber_linger);
    if (linger.time_point() < deadline.time_point()) {
      deadline = linger;
      lingering = true;
    }
  }
  std::size_t n = 0;
  std::string timed_out;
  bool drained_while_idle = false;
  try {
    n = stream_->read_some(space, deadline);
  } catch (const TimeoutError& e) {
    if (lingering) {
      idle_ = false;
      linger_over_ = true;
      return kLingerOver;
    }
    timed_out = e.what();
  } catch (const CancelledError&) {
    if (!draining_) throw;  // evicted, or cut
    drained_while_idle = true;  // recorded only: the last look parks, outside this block
  }
  if (drained_while_idle) {
    idle_ = false;
    return read_more(space);  // the draining branch
  }
  if (!timed_out.empty()) {
    if (idle_) throw TimeoutError("idle for " + std::to_string(opts.idle_timeout.count()) + " ms");
    close_with_error("request not completed within " + std::to_string(opts.frame_timeout.count()) +
                     " ms of its first byte");
    throw TimeoutError("request not completed within the frame timeout");
  }
  idle_ = false;
  if (n > 0) idle_deadline_set_ = false;  // the next idle period counts afresh
  return n;
}

void FramedConnection::flush() {
  // Once cut, the last replies (CANCELLED, SHUTTING_DOWN) get a moment, not the write timeout.
  const Deadline deadline =
      cut_ ? Deadline::after(std::chrono::milliseconds(100)) : deadline_after(core_.options().write_timeout);
  if (deferred_size() != 0) {
    // A large reply's payload goes from the dispatcher's buffer, in pieces as the socket
    // takes them, between the bytes before and after it.
    const DeferredReply d = take_deferred();
    const std::string_view all(out_);
    const std::string_view parts[] = {all.substr(0, d.at), d.bytes, all.substr(d.at)};
    stream_->write_all(parts, deadline);
    dispatcher_.release_large_buffers();
    account();
  } else {
    stream_->write_all(out_, deadline);
  }
  out_.clear();
}

bool FramedConnection::serve(const Wakeup& wakeup) {
  may_sleep_ = wakeup.ready != nullptr && core_.options().release_idle_fibers;
  const ServerOptions& opts = core_.options();
  for (;;) {
    if (go_dormant(wakeup)) return true;
    in_.shrink_if_idle();
    shrink_protocol_buffers_if_idle();
    std::span<char> space = in_.prepare(read_hint_, opts.query_buffer_limit);
    if (space.empty()) {
      close_with_error("query buffer limit of " + std::to_string(opts.query_buffer_limit) + " bytes exceeded");
      throw IoError("query buffer limit exceeded", 0);
    }
    account();
    if (!evicted_.empty()) return false;
    // 0: the peer closed, or a drain or cut found nothing more to read. Every reply is out
    // already: each batch ends with a flush.
    std::size_t n = read_more(space);
    if (n == 0) {
      close_reason_ = draining_ || cut_ ? "server stopping" : "peer closed";
      return false;
    }
    if (n == kLingerOver) continue;  // to go_dormant()
    const Clock::time_point arrived = Clock::now();  // deadlines count from arrival, not from when a request gets to run
    // A read that filled the space means a deep pipeline: read more at once next time (up to
    // 32 KiB), so a batch arrives in one recv and leaves in one write.
    if (n == space.size() && read_hint_ < kMaxReadHint) read_hint_ *= 2;
    if (in_.size() == 0 && opts.frame_timeout.count() > 0) frame_deadline_ = Deadline(arrived + opts.frame_timeout);
    in_.commit(n);

    // Every complete frame in the buffer, in order; all their replies in one write.
    bool keep_open = true;
    while (keep_open && in_.size() > 0 && evicted_.empty()) {
      const Frame frame = next_frame(arrived);
      if (frame == Frame::incomplete) break;
      if (frame == Frame::error) {  // a protocol violation: reply (in out_), then close
        keep_open = false;
        break;
      }
      keep_open = frame == Frame::served;
      // The next request's first byte, if any, came with this read.
      if (opts.frame_timeout.count() > 0) frame_deadline_ = Deadline(arrived + opts.frame_timeout);
      const std::size_t deferred = deferred_size();  // one virtual call per frame
      if (out_.size() + deferred > opts.output_buffer_limit) {
        take_deferred();
        out_.clear();
        out_.shrink_to_fit();
        dispatcher_.release_large_buffers();
        account();
        throw IoError("output buffer limit of " + std::to_string(opts.output_buffer_limit) + " bytes exceeded", 0);
      }
      if (!evicted_.empty()) {  // evicted while its handler ran: its replies are not sent
        take_deferred();
        dispatcher_.release_buffers();
        break;
      }
      // A deferred payload is written before the next request can reuse its buffer.
      if (out_.size() >= kFlushThreshold || deferred != 0) {
        account();
        flush();
      }
    }
    if (!evicted_.empty()) return false;  // evicted while a handler ran: run() answers and closes
    if (!out_.empty()) {
      account();
      flush();
    }
    // Between batches, large buffers go back (the budget counts capacities): a connection
    // lingering after a big reply holds at most 64 KiB of each.
    if (out_.capacity() > kKeptBuffer) std::string().swap(out_);
    dispatcher_.release_large_buffers();
    release_large_protocol_buffers();
    account();
    if (!keep_open) return false;  // QUIT or a protocol error: run() closes politely
  }
}

}  // namespace greenrpc
