#include "connection.hpp"

#include <algorithm>
#include <cstring>

#include "builtin_commands.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/protocol/resp_writer.hpp"
#include "greenrpc/envelope/envelope.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber_deadline.hpp"
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
constexpr std::size_t kMaxReadHint = 32 * 1024;

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
  // Accepted just before a drain that ran before this fiber did: the drain could not see it.
  draining_ = worker_.draining();
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
    std::span<char> space = in_.prepare(read_hint_);
    idle_ = in_.size() == 0;
    std::size_t n = stream_->read_some(space, deadline_after(opts.idle_timeout));
    idle_ = false;
    if (n == 0) return;  // peer closed
    arrived_ = Clock::now();  // deadlines count from arrival, not from when a request gets to run
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
        protocol::append_error(out_, error_code::generic, r.error);
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
  worker_.commands.store(worker_.commands.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (envelope::is_envelope(args[0])) return dispatch_enveloped(args);
  return run(args, Deadline::never(), /*signed_request=*/false);
}

// [envelope, command, args...]: verify the signature (when any), apply the deadline, run, and
// sign the reply with the key that verified the request.
bool Connection::dispatch_enveloped(std::span<const std::string_view> args) {
  envelope::Header header;
  std::string problem;
  try {
    header = envelope::parse(args[0]);
  } catch (const envelope::EnvelopeError& e) {
    problem = e.what();
  }
  if (!problem.empty()) return reply_error(error_code::generic, "bad envelope: " + problem);
  auto request = args.subspan(1);
  if (request.empty()) return reply_error(error_code::generic, "envelope without a command");

  const HmacKey* key = nullptr;
  if (header.tag) {
    const auto& keys = core_.signing_keys();
    if (keys.empty()) return reply_error(error_code::auth_error, "request is signed but this server has no auth_secret");
    ensure_nonce(info_);
    for (const HmacKey& k : keys) {
      if (HmacKey::equal(*header.tag, envelope::request_tag(k, info_.nonce, header, request))) {
        key = &k;
        break;
      }
    }
    if (!key)
      return reply_error(error_code::auth_error,
                         "signature does not match: the client's auth_secret differs or the request was altered");
    if (header.seq <= info_.last_seq)
      return reply_error(error_code::auth_error, "replayed or reordered request: seq " + std::to_string(header.seq) +
                                                      " is not above " + std::to_string(info_.last_seq));
    info_.last_seq = header.seq;
  }
  // More than ten years is as good as none (and would overflow the clock's nanoseconds). This
  // also makes the all-ones value, which stands for "absent" in the signed bytes, mean exactly
  // that: a peer adding it to a signed request changes nothing.
  constexpr std::uint64_t kForeverMs = 10ull * 365 * 24 * 3600 * 1000;
  Deadline deadline = (header.deadline_ms && *header.deadline_ms < kForeverMs)
                          ? Deadline(arrived_ + std::chrono::milliseconds(*header.deadline_ms))
                          : Deadline::never();
  // [tag, reply]: the tag's place is kept and filled once the reply is written.
  if (key) out_.append(envelope::kSignedReplyHead);
  const std::size_t tag_at = out_.size();
  if (key) out_.append(32, '\0').append("\r\n", 2);
  const std::size_t reply_start = out_.size();
  bool keep_open = run(request, deadline, key != nullptr);
  if (key) {
    // The tag covers the exact bytes of the reply element.
    Tag tag = envelope::reply_tag(*key, info_.nonce, header.seq, std::string_view(out_).substr(reply_start));
    std::memcpy(out_.data() + tag_at, tag.data(), tag.size());
  }
  return keep_open;
}

bool Connection::reply_error(std::string_view code, std::string_view message) {
  protocol::append_error(out_, code, message);
  return true;
}

bool Connection::run(std::span<const std::string_view> args, Deadline deadline, bool signed_request) {
  std::string_view name = args[0];
  char lower[kMaxCommandName];
  const Route* route = nullptr;
  if (name.size() <= kMaxCommandName) {
    std::transform(name.begin(), name.end(), lower,
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
    route = core_.route(std::string_view(lower, name.size()));
  }
  if (!route) return reply_error(error_code::invalid_command, name.substr(0, 256));
  if (route->builtin) {
    BuiltinCall call{args, info_, core_, out_};
    route->builtin(call);
    return !call.close_after;
  }
  if (!signed_request && core_.signing_required())
    return reply_error(error_code::auth_error,
                       "request is not signed: this server requires HMAC-signed requests (set the client's auth_secret)");
  if (deadline.expired())
    return reply_error(error_code::deadline_exceeded, "the caller's deadline passed before the command ran");
  RequestContext request(info_.id, info_.peer, route->command->info->name, info_.worker);
  request.set_deadline(deadline);
  HandlerCall call{args.subspan(1), info_, request, core_.options().decode_limits, scratch_, out_};
  FiberDeadlineScope scope(deadline);  // calls the handler makes inherit it
  route->command->handler(call);
  return true;
}

}  // namespace greenrpc
