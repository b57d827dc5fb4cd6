#include "connection.hpp"

#include <algorithm>

#include "builtin_commands.hpp"
#include "greenrpc/protocol/error_codes.hpp"
#include "greenrpc/protocol/resp_writer.hpp"
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
constexpr std::size_t kMaxCommandName = 128;

Deadline deadline_after(std::chrono::milliseconds ms) {
  return ms.count() > 0 ? Deadline::after(ms) : Deadline::never();
}

}  // namespace

Connection::Connection(Worker& worker, std::unique_ptr<ByteStream> stream)
    : worker_(worker), core_(worker.core()), stream_(std::move(stream)), parser_(core_.options().protocol_limits) {
  info_.id = core_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  info_.peer = stream_->peer();
  info_.worker = worker.index();
  worker_.attach(this);
}

Connection::~Connection() { worker_.detach(this); }

void Connection::drain() {
  draining_ = true;
  if (idle_) stream_->cancel();
}

void Connection::cut() {
  cut_ = true;  // requests still queued in the buffer are not started
  stream_->cancel();
}

void Connection::run() noexcept {
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

void Connection::serve() {
  const ServerOptions& opts = core_.options();
  for (;;) {
    if (draining_ && in_.size() == 0) return;
    in_.shrink_if_idle();
    std::span<char> space = in_.prepare();
    idle_ = in_.size() == 0;
    std::size_t n = stream_->read_some(space, deadline_after(opts.idle_timeout));
    idle_ = false;
    if (n == 0) return;  // peer closed
    in_.commit(n);

    // Every complete frame in the buffer, in order; all their replies in one write.
    bool keep_open = true;
    while (keep_open && !cut_ && in_.size() > 0) {
      protocol::ParseResult r = parser_.parse(in_.data());
      if (r.status == protocol::ParseStatus::incomplete) break;
      if (r.status == protocol::ParseStatus::error) {
        // A protocol violation: the stream can no longer be framed. Reply, then close.
        protocol::append_error(out_, "ERR " + r.error);
        keep_open = false;
        break;
      }
      auto args = parser_.args();
      if (!args.empty()) keep_open = dispatch(args);
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

bool Connection::dispatch(std::span<const std::string_view> args) {
  core_.total_commands.fetch_add(1, std::memory_order_relaxed);
  std::string_view name = args[0];
  char lower[kMaxCommandName];
  const Route* route = nullptr;
  if (name.size() <= kMaxCommandName) {
    std::transform(name.begin(), name.end(), lower,
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
    route = core_.route(std::string_view(lower, name.size()));
  }
  if (!route) {
    std::string msg(error_code::invalid_command);
    msg += ' ';
    msg.append(name.substr(0, 256));
    protocol::append_error(out_, msg);
    return true;
  }
  if (route->builtin) {
    BuiltinCall call{args, info_, core_, out_};
    route->builtin(call);
    return !call.close_after;
  }
  RequestContext request(info_.id, info_.peer, route->command->info->name, info_.worker);
  HandlerCall call{args.subspan(1), info_, request, core_.options().decode_limits, scratch_, out_};
  route->command->handler(call);
  return true;
}

}  // namespace greenrpc
