#include "client_connection.hpp"

#include <charconv>
#include <random>

#include "greenrpc/client/errors.hpp"
#include "greenrpc/envelope/envelope.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/protocol/read_buffer.hpp"
#include "greenrpc/protocol/reply_parser.hpp"
#include "greenrpc/protocol/resp_writer.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/tls/tls_error.hpp"

namespace greenrpc::detail {
namespace {

constexpr unsigned kMaxAttempts = 3;  // sends of one idempotent call

// The payloads of a body of RESP bulk strings ("$3\r\nadd\r\n$1\r\n\x01\r\n" → "add", "\x01").
// "CODE" or "CODE message".
bool has_code(std::string_view line, std::string_view code) {
  return line.starts_with(code) && (line.size() == code.size() || line[code.size()] == ' ');
}

void split_bulks(std::string_view body, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t crlf = body.find('\r', pos);
    std::size_t len = 0;
    std::from_chars(body.data() + pos + 1, body.data() + crlf, len);
    out.emplace_back(body.data() + crlf + 2, len);
    pos = crlf + 2 + len + 2;
  }
}

std::chrono::milliseconds backoff(const ClientOptions& o, std::size_t attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  auto base = o.retry_backoff * (1LL << std::min<std::size_t>(attempt - 1, 16));
  if (base > o.retry_backoff_max) base = o.retry_backoff_max;
  std::uniform_real_distribution<double> jitter(0.5, 1.5);  // spreads reconnecting clients apart
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(base.count()) * jitter(rng)));
}

}  // namespace

ClientConnection::ClientConnection(FiberGroup& fibers, std::string host, std::uint16_t port,
                                   const ClientOptions& options, std::unique_ptr<Connector> connector,
                                   ClientMetrics& metrics)
    : fibers_(fibers),
      host_(std::move(host)),
      port_(port),
      options_(options),
      connector_(std::move(connector)),
      metrics_(metrics) {
  if (!options_.auth_secret.empty()) key_.emplace(options_.auth_secret);
  fibers_.spawn([this] { writer_loop(); });
}

void ClientConnection::complete(PendingCall& call) {
  metrics_.finished(call);
  call.done->set();
}

void ClientConnection::fail(PendingCall& call, std::exception_ptr error) {
  call.failure = std::move(error);
  complete(call);
}

void ClientConnection::enqueue(std::shared_ptr<PendingCall> call) {
  metrics_.queued();
  if (closing_) return fail(*call, std::make_exception_ptr(CancelledError("client is closed")));
  outbox_.push_back(std::move(call));
  if (writer_waiter_) writer_waiter_->wake();
}

void ClientConnection::shutdown() {
  closing_ = true;
  if (writer_waiter_) writer_waiter_->wake();
  if (pause_waiter_) pause_waiter_->wake();
  if (link_) link_->stream->cancel();
  connector_->cancel();  // a connect (or the stream's own handshake) in progress
  if (connecting_) connecting_->cancel();
  auto error = std::make_exception_ptr(CancelledError("client is closed"));
  for (auto& call : outbox_) fail(*call, error);
  outbox_.clear();
}

std::exception_ptr ClientConnection::connect() {
  const std::size_t attempts = std::max<std::size_t>(1, options_.connect_retries);
  std::string last;
  int last_code = 0;
  auto gave_up = [&](std::size_t attempt) {
    return std::make_exception_ptr(ConnectError("cannot connect to " + Endpoint{host_, port_}.to_string() + " after " +
                                                    std::to_string(attempt) +
                                                    (attempt == 1 ? " attempt: " : " attempts: ") + last,
                                                last_code));
  };
  for (std::size_t attempt = 1;; ++attempt) {
    std::exception_ptr error = connect_once();
    if (!error) {
      if (std::exchange(connected_before_, true)) metrics_.reconnects.add();
      return nullptr;
    }
    metrics_.connect_failures.add();
    bool retryable = false;
    try {
      std::rethrow_exception(error);
    } catch (const ConnectError& e) {  // record only: nothing parks inside a catch
      retryable = true;
      last = e.what();
      last_code = e.code();
    } catch (const TlsError& e) {
      // A TLS port at max_connections refuses in the clear, before any handshake ("-ERR max
      // number of clients reached"): temporary, like a refused connect.
      if (e.reason() == TlsError::Reason::not_tls && std::string_view(e.what()).find("max number of clients") != std::string_view::npos) {
        retryable = true;
        last = e.what();
      }
    } catch (...) {
    }
    if (!retryable) return error;  // the server answered and refused (AUTH, NONCE): retrying cannot help
    // The back-off is bounded by the queued calls' deadlines: no sleeping past the latest one,
    // and no retrying once every caller has given up.
    const Deadline latest = latest_waiting_deadline();
    const bool anyone_waiting = latest.time_point() != Clock::time_point::min() && !latest.expired();
    if (closing_ || attempt >= attempts || !anyone_waiting) return gave_up(attempt);
    // Parks only the writer fiber; calls queue meanwhile.
    pause_until(earliest(Deadline::after(backoff(options_, attempt)), latest));
    if (closing_) return std::make_exception_ptr(CancelledError("client is closed"));
    if (latest_waiting_deadline().expired()) return gave_up(attempt);  // every caller gave up meanwhile
  }
}

void ClientConnection::pause_until(Deadline deadline) {
  Waiter waiter;
  pause_waiter_ = &waiter;
  waiter.park(deadline);
  pause_waiter_ = nullptr;
}

Deadline ClientConnection::latest_waiting_deadline() const {
  Deadline latest = Deadline(Clock::time_point::min());
  for (const auto& call : outbox_)
    if (!call->abandoned.load(std::memory_order_relaxed) && latest.time_point() < call->deadline.time_point())
      latest = call->deadline;
  return latest;
}

std::exception_ptr ClientConnection::connect_once() {
  const Deadline deadline = Deadline::after(options_.connect_timeout);
  std::unique_ptr<ByteStream> stream;
  auto link = std::make_shared<Link>();
  std::exception_ptr error;
  try {
    stream = connector_->connect(deadline);  // resolves, connects, runs the stream's handshake
    connecting_ = stream.get();  // shutdown() may cancel the exchange below
    // Handshake, pipelined: AUTH, CLIENT SETNAME, NONCE (when signing); replies in order.
    std::string frame;
    std::vector<int> expected;  // 0 AUTH, 1 SETNAME, 2 NONCE
    if (!options_.password.empty()) {
      std::vector<std::string_view> parts{"AUTH"};
      if (!options_.username.empty()) parts.push_back(options_.username);
      parts.push_back(options_.password);
      protocol::append_command(frame, parts);
      expected.push_back(0);
    }
    if (!options_.client_name.empty()) {
      std::string_view parts[] = {"CLIENT", "SETNAME", options_.client_name};
      protocol::append_command(frame, parts);
      expected.push_back(1);
    }
    if (key_) {
      std::string_view parts[] = {"NONCE"};
      protocol::append_command(frame, parts);
      expected.push_back(2);
    }
    if (!expected.empty()) {
      stream->write_all(frame, deadline);
      protocol::ReplyParser parser(options_.protocol_limits);
      protocol::ReadBuffer in;
      std::size_t next = 0;
      while (next < expected.size()) {
        std::size_t n = stream->read_some(in.prepare(), deadline);
        if (n == 0)
          throw ConnectError("connection to " + Endpoint{host_, port_}.to_string() +
                                 (stream->end_of_stream() == EndOfStream::abrupt ? " reset" : " closed") +
                                 " during handshake",
                             0);
        in.commit(n);
        protocol::RespValue reply;
        while (next < expected.size() && in.size() > 0) {
          auto r = parser.parse(in.data(), reply);
          if (r.status == protocol::ParseStatus::incomplete) break;
          if (r.status == protocol::ParseStatus::error) throw ConnectError("bad handshake reply: " + r.error, 0);
          in.consume(r.consumed);
          int what = expected[next++];
          if (what == 2) {
            // The server's own words when it answered with an error: "-ERR this port requires TLS"
            // is not a missing NONCE.
            if (reply.type != protocol::RespValue::Type::bulk_string || reply.str.size() != envelope::kNonceSize)
              throw AuthError("the server does not support signed requests (no NONCE): is it a greenrpc server?" +
                              (reply.type == protocol::RespValue::Type::error
                                   ? " It answered: \"" + reply.str.substr(0, 200) + "\""
                                   : std::string()));
            link->nonce = reply.str;
          } else if (reply.type == protocol::RespValue::Type::error) {
            throw_remote_error(reply.str);
          }
        }
      }
    }
  } catch (...) {
    error = std::current_exception();  // recorded only; nothing parks in here
  }
  connecting_ = nullptr;
  if (!error && closing_) error = std::make_exception_ptr(CancelledError("client is closed"));
  if (error) {
    if (stream) stream->close();
    return error;
  }
  link->stream = std::move(stream);
  link_ = link;
  fibers_.spawn([this, link] { reader_loop(link); });
  return nullptr;
}

void ClientConnection::append_frame(std::string& wire, Link& link, PendingCall& call) {
  const bool needs_envelope = key_.has_value() || !call.deadline.is_never();
  protocol::append_array_header(wire, call.elements + (needs_envelope ? 1 : 0));
  if (needs_envelope) {
    envelope::Header header;
    if (!call.deadline.is_never())  // the time left now, as it leaves
      header.deadline_ms = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(call.deadline.remaining()).count());
    if (key_) {
      header.seq = ++link.seq;
      call.seq = header.seq;
      split_bulks(call.body, elements_);
      header.tag = envelope::request_tag(*key_, link.nonce, header, elements_);
    }
    envelope_scratch_.clear();
    envelope::append_encoded(envelope_scratch_, header);
    protocol::append_bulk(wire, envelope_scratch_);
  }
  wire += call.body;
}

void ClientConnection::writer_loop() {
  std::vector<std::shared_ptr<PendingCall>> batch;
  while (!closing_) {
    if (outbox_.empty()) {
      Waiter waiter;
      writer_waiter_ = &waiter;
      waiter.park();
      writer_waiter_ = nullptr;
      continue;
    }
    if (!link_) {  // never set, or reset by break_link
      if (!resend_after_.is_never()) {
        // Resending calls that may have run: back off first (bounded by the callers' deadlines),
        // so a server that dies on a request is not hit again at once.
        pause_until(earliest(resend_after_, latest_waiting_deadline()));
        resend_after_ = Deadline::never();
        continue;  // closing_ and abandoned calls are looked at again
      }
      if (std::exception_ptr error = connect()) {
        // Nothing was sent: every queued call fails with the connect error, or with its timeout
        // when its deadline ended the back-off (its caller sees the same either way it races).
        batch.swap(outbox_);
        for (auto& call : batch) fail(*call, call->deadline.expired() ? deadline_failure(*call) : error);
        batch.clear();
        continue;
      }
    }
    batch.swap(outbox_);
    std::shared_ptr<Link> link = link_;
    wire_.clear();
    for (auto& call : batch) {
      if (call->abandoned.load(std::memory_order_relaxed)) {  // timed out before it left
        complete(*call);  // counted (a timeout); its caller is gone
        continue;
      }
      append_frame(wire_, *link, *call);
      call->wire_end = link->queued_bytes + wire_.size();
      link->inflight.push_back(call);
    }
    batch.clear();
    if (!wire_.empty()) write_batch(link);
    if (wire_.capacity() > (1u << 20)) std::string().swap(wire_);
  }
}

void ClientConnection::write_batch(const std::shared_ptr<Link>& link) {
  link->queued_bytes += wire_.size();
  std::string failure;
  try {
    std::string_view rest = wire_;
    while (!rest.empty()) {
      // Bounded by progress, not by the whole batch: a server that reads slowly is fine, one
      // that stopped reading is not.
      std::size_t n = link->stream->write_some(std::span(&rest, 1), Deadline::after(options_.write_timeout));
      rest.remove_prefix(n);
      link->written_bytes += n;
    }
    // Taken is not yet sent for a stream that holds bytes (TLS): push them on before waiting for
    // replies. Counted already, so a failure here leaves them "may have run" — never resent
    // unless idempotent.
    if (link->stream->has_unflushed()) link->stream->flush(Deadline::after(options_.write_timeout));
  } catch (const TimeoutError&) {
    failure = "the server took no request bytes for " + std::to_string(options_.write_timeout.count()) + " ms";
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) break_link(link, failure);
}

void ClientConnection::deliver(Link& link, const std::shared_ptr<PendingCall>& call_ptr, protocol::RespValue reply,
                               std::string_view raw) {
  using T = protocol::RespValue::Type;
  PendingCall& call = *call_ptr;
  protocol::RespValue value;
  if (key_) {
    const bool signed_shape = reply.type == T::array && reply.elements.size() == 2 &&
                              reply.elements[0].type == T::bulk_string && reply.elements[0].str.size() == 32;
    if (!signed_shape) {
      // The server could not verify the request (its AUTH_ERROR is unsigned), or it does not sign.
      if (reply.type == T::error && reply.str.starts_with(error_code::auth_error)) {
        call.reply = std::move(reply);
        return complete(call);
      }
      std::string said;
      if (reply.type == T::error || reply.type == T::simple_string) said = " (it said, unauthenticated: \"" + reply.str.substr(0, 200) + "\")";
      return fail(call, std::make_exception_ptr(AuthError(
                            "unsigned reply where a signed one was expected: the server has no auth_secret, "
                            "or the reply was altered in transit" + said)));
    }
    // A reply of this shape is exactly kSignedReplyHead, tag, CRLF, element: hash the element's
    // bytes in place.
    Tag expected = envelope::reply_tag(*key_, link.nonce, call.seq, raw.substr(envelope::kSignedReplyPrefix));
    if (!HmacKey::equal(reply.elements[0].str, expected))
      return fail(call, std::make_exception_ptr(AuthError(
                            "reply signature does not match: altered in transit, or the server signs with "
                            "another auth_secret")));
    value = std::move(reply.elements[1]);
  } else {
    value = std::move(reply);
  }
  if (value.type == T::error && has_code(value.str, error_code::shutting_down))
    return resend_refused(link, call_ptr, std::move(value));
  if (value.type == T::error && has_code(value.str, error_code::cancelled)) {
    // The server cancelled it while it ran, as it stopped: like a connection lost mid-call.
    if (resend_possibly_run(*call_ptr)) {
      // To the stopping server's successor, after the back-off the writer honours before it
      // opens a new connection.
      if (link_.get() == &link) link_.reset();
      resend_after_ = Deadline::after(backoff(options_, call_ptr->attempts));
      metrics_.retries.add();
      outbox_.push_back(call_ptr);
      if (writer_waiter_) writer_waiter_->wake();
      return;
    }
    return fail(call, lost_error("the server cancelled the call as it stopped (" + value.str.substr(0, 200) + ")"));
  }
  call.reply = std::move(value);
  complete(call);  // a timed-out (abandoned) call's late reply goes nowhere
}

bool ClientConnection::resend_possibly_run(PendingCall& call) {
  ++call.attempts;  // this send reached the server
  return call.idempotent && call.attempts < kMaxAttempts && !call.abandoned.load() && !call.deadline.expired() &&
         !closing_;
}

std::exception_ptr ClientConnection::lost_error(const std::string& what) const {
  return std::make_exception_ptr(ConnectionLostError("call to " + Endpoint{host_, port_}.to_string() + " " + what +
                                                         "; not retried: the command may have run (declare it "
                                                         "idempotent to allow retries)",
                                                     0));
}

void ClientConnection::resend_refused(Link& link, const std::shared_ptr<PendingCall>& call, protocol::RespValue reply) {
  constexpr unsigned kMaxRefusals = 3;  // successors that keep stopping: give up with their answer
  if (!link.refused) {
    link.refused = true;
    // New calls go to a new connection; this one only waits for the replies still owed to it.
    if (link_.get() == &link) link_.reset();
    GREENRPC_LOG(debug, "server " + Endpoint{host_, port_}.to_string() + " is shutting down: resending elsewhere");
  }
  if (closing_ || call->abandoned.load(std::memory_order_relaxed) || call->deadline.expired() ||
      ++call->refusals >= kMaxRefusals) {
    call->reply = std::move(reply);
    return complete(*call);
  }
  metrics_.retries.add();
  outbox_.push_back(call);
  if (writer_waiter_) writer_waiter_->wake();
}

void ClientConnection::reader_loop(std::shared_ptr<Link> link) {
  protocol::ReplyParser parser(options_.protocol_limits);
  protocol::ReadBuffer in;
  protocol::RespValue reply;
  std::string failure;
  std::exception_ptr refused;
  try {
    for (;;) {
      std::size_t n = link->stream->read_some(in.prepare(), Deadline::never());
      if (n == 0) {
        failure = link->stream->end_of_stream() == EndOfStream::abrupt ? "reset by the server" : "closed by the server";
        break;
      }
      in.commit(n);
      while (in.size() > 0) {
        auto r = parser.parse(in.data(), reply);
        if (r.status == protocol::ParseStatus::incomplete) break;
        if (r.status == protocol::ParseStatus::error) throw IoError("unparsable reply: " + r.error, 0);
        if (link->inflight.empty()) throw IoError("reply received with no request in flight", 0);
        std::shared_ptr<PendingCall> call = std::move(link->inflight.front());
        link->inflight.pop_front();
        deliver(*link, call, std::move(reply), std::string_view(in.data().data(), r.consumed));
        in.consume(r.consumed);
        reply = {};
      }
      in.shrink_if_idle();
    }
  } catch (const TlsError& e) {
    failure = e.what();
    // The server refused the handshake after it seemed complete (TLS 1.3 checks the client's
    // certificate last): no request on this link ran, and a new connection would be refused too.
    if (e.reason() == TlsError::Reason::client_cert_required || e.reason() == TlsError::Reason::peer_cert_rejected)
      refused = std::current_exception();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (refused) {
    for (auto& call : link->inflight) fail(*call, refused);
    link->inflight.clear();
    for (auto& call : outbox_) fail(*call, refused);
    outbox_.clear();
  }
  break_link(link, failure);
  link->stream->close();
}

void ClientConnection::break_link(const std::shared_ptr<Link>& link, const std::string& why) {
  if (!link->broken) {
    link->broken = true;
    link->stream->cancel();  // wakes the other fiber using this link
  }
  if (link_ == link) link_.reset();
  if (link->inflight.empty()) return;
  GREENRPC_LOG(debug, "connection to " + Endpoint{host_, port_}.to_string() + " lost: " + why);
  // A call whose frame never fully left this process cannot have run: it goes again whatever its
  // idempotency. The others may have run: idempotent ones go again (within their deadline, after
  // a back-off), the rest fail rather than risk running twice.
  std::vector<std::shared_ptr<PendingCall>> again;
  std::exception_ptr lost;
  unsigned resend_attempts = 0;  // the most sends among possibly-run calls going again
  for (auto& call : link->inflight) {
    // Never fully sent, or sent after a request the server refused as it stopped: never ran.
    if (call->wire_end > link->written_bytes || link->refused) {
      if (closing_) {
        fail(*call, std::make_exception_ptr(CancelledError("client is closed")));
      } else {
        again.push_back(std::move(call));
      }
      continue;
    }
    if (resend_possibly_run(*call)) {
      resend_attempts = std::max(resend_attempts, call->attempts);
      again.push_back(std::move(call));
      continue;
    }
    if (!lost) lost = lost_error("lost with the call in flight (" + why + ")");
    fail(*call, lost);
  }
  link->inflight.clear();
  if (!again.empty()) {
    metrics_.retries.add(again.size());
    if (resend_attempts > 0) resend_after_ = Deadline::after(backoff(options_, resend_attempts));
    outbox_.insert(outbox_.begin(), again.begin(), again.end());
    if (writer_waiter_) writer_waiter_->wake();
  }
}

}  // namespace greenrpc::detail
