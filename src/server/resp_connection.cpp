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
  if (idle_) stream_->cancel();
}

void RespConnection::cut() {
  cut_ = true;  // requests still queued in the buffer are not started
  stream_->cancel();
}

void RespConnection::run() noexcept {
  std::string failure;  // recorded in catch blocks, logged after them
  try {
    if (core_.app().make_state) info_.state = core_.app().make_state();
    serve();
  } catch (const CancelledError&) {
  } catch (const TimeoutError& e) {
    failure = e.what();
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) GREENRPC_LOG(debug, "connection " + std::to_string(info_.id) + " closed: " + failure);
  stream_->close();
}

void RespConnection::serve() {
  const ServerOptions& opts = core_.options();
  for (;;) {
    if (draining_ && in_.size() == 0) return;
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
    while (keep_open && !cut_ && in_.size() > 0) {
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
        stream_->write_all(out_, deadline_after(opts.write_timeout));
        out_.clear();
      }
    }
    if (!out_.empty()) {
      stream_->write_all(out_, deadline_after(opts.write_timeout));
      out_.clear();
      if (out_.capacity() > kFlushThreshold) out_.shrink_to_fit();
    }
    if (!keep_open) {
      stream_->shutdown_write();
      return;
    }
  }
}

}  // namespace greenrpc
