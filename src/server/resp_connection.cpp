#include "resp_connection.hpp"

#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/net/errors.hpp"
#include "server_core.hpp"
#include "worker.hpp"

namespace greenrpc {
namespace {

// Replies beyond this size are flushed mid-batch, so a deep pipeline of large replies does not
// pile up in memory.
constexpr std::size_t kFlushThreshold = 1 << 20;
constexpr std::size_t kMaxReadHint = 32 * 1024;

Deadline deadline_after(std::chrono::milliseconds ms) {
  return ms.count() > 0 ? Deadline::after(ms) : Deadline::never();
}

}  // namespace

RespConnection::RespConnection(Worker& worker, std::unique_ptr<ByteStream> stream)
    : core_(worker.core()),
      stream_(std::move(stream)),
      parser_(core_.options().protocol_limits),
      dispatcher_(core_, info_, worker.commands) {
  info_.id = core_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  info_.peer = stream_->peer();
  info_.worker = worker.index();
}

void RespConnection::drain() {
  draining_ = true;
  dispatcher_.refuse_new_requests();  // what is queued, or arrives, is answered SHUTTING_DOWN
  if (idle_) stream_->cancel();
}

void RespConnection::cut() {
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

void RespConnection::close_politely() {
  constexpr auto kLinger = std::chrono::milliseconds(200);
  constexpr std::size_t kMaxDrained = 1 << 20;
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
  (void)failure;
}

void RespConnection::run() noexcept {
  std::string failure;  // recorded in catch blocks, logged after them
  bool polite = false;
  try {
    if (core_.app().make_state) info_.state = core_.app().make_state();
    serve();
    polite = true;
  } catch (const CancelledError&) {
    polite = draining_ && !cut_;  // a drain ended an idle read: nothing unanswered, close with a FIN
  } catch (const TimeoutError& e) {
    failure = e.what();
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) GREENRPC_LOG(debug, "connection " + std::to_string(info_.id) + " closed: " + failure);
  if (polite) close_politely();  // never throws
  stream_->close();
}

void RespConnection::serve() {
  const ServerOptions& opts = core_.options();
  // Once cut, the last replies (CANCELLED, SHUTTING_DOWN) get a moment, not the write timeout.
  auto write_deadline = [&] {
    return cut_ ? Deadline::after(std::chrono::milliseconds(100)) : deadline_after(opts.write_timeout);
  };
  for (;;) {
    // Stopping: every complete request read so far has its reply (SHUTTING_DOWN for those that
    // did not start); a partial one is dropped with the connection.
    if (draining_) return;
    in_.shrink_if_idle();
    std::span<char> space = in_.prepare(read_hint_);
    idle_ = in_.size() == 0;
    std::size_t n = stream_->read_some(space, deadline_after(opts.idle_timeout));
    idle_ = false;
    if (n == 0) return;  // peer closed
    const Clock::time_point arrived = Clock::now();  // deadlines count from arrival, not from when a request gets to run
    // A read that filled the space means a deep pipeline: read more at once next time (up to
    // 32 KiB), so a batch arrives in one recv and leaves in one write.
    if (n == space.size() && read_hint_ < kMaxReadHint) read_hint_ *= 2;
    in_.commit(n);

    // Every complete frame in the buffer, in order; all their replies in one write.
    bool keep_open = true;
    while (keep_open && in_.size() > 0) {
      protocol::ParseResult r = parser_.parse(in_.data());
      if (r.status == protocol::ParseStatus::incomplete) break;
      if (r.status == protocol::ParseStatus::error) {
        // A protocol violation: the stream can no longer be framed. Reply, then close.
        reply_.error(error_code::generic, r.error);
        keep_open = false;
        break;
      }
      auto args = parser_.args();
      if (!args.empty()) keep_open = dispatcher_.dispatch_elements(args, arrived, reply_) == AfterReply::keep_open;
      in_.consume(r.consumed);  // after dispatch: args view the buffer
      if (out_.size() >= kFlushThreshold) {
        stream_->write_all(out_, write_deadline());
        out_.clear();
      }
    }
    if (!out_.empty()) {
      stream_->write_all(out_, write_deadline());
      out_.clear();
      if (out_.capacity() > kFlushThreshold) out_.shrink_to_fit();
    }
    if (!keep_open) return;  // QUIT or a protocol error: run() closes politely
  }
}

}  // namespace greenrpc
