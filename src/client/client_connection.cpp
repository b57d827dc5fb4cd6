#include "client_connection.hpp"

#include "greenrpc/client/errors.hpp"
#include "greenrpc/protocol/read_buffer.hpp"
#include "greenrpc/protocol/reply_parser.hpp"
#include "greenrpc/protocol/resp_writer.hpp"
#include "greenrpc/runtime/log.hpp"

namespace greenrpc::detail {

ClientConnection::ClientConnection(EventLoopThread& loop, std::string host, std::uint16_t port,
                                   const ClientOptions& options)
    : loop_(loop), host_(std::move(host)), port_(port), options_(options) {
  loop_.spawn_fiber([this] { writer_loop(); });
}

void ClientConnection::fail(PendingCall& call, std::exception_ptr error) {
  call.failure = std::move(error);
  call.done->set();
}

void ClientConnection::enqueue(std::shared_ptr<PendingCall> call) {
  if (closing_) return fail(*call, std::make_exception_ptr(CancelledError("client is closed")));
  outbox_.push_back(std::move(call));
  if (writer_waiter_) writer_waiter_->wake();
}

void ClientConnection::shutdown() {
  closing_ = true;
  if (writer_waiter_) writer_waiter_->wake();
  if (link_) link_->stream->cancel();
  if (connecting_) connecting_->cancel();
  auto error = std::make_exception_ptr(CancelledError("client is closed"));
  for (auto& call : outbox_) fail(*call, error);
  outbox_.clear();
}

std::exception_ptr ClientConnection::connect() {
  const Deadline deadline = Deadline::after(options_.connect_timeout);
  std::unique_ptr<TcpStream> stream;
  std::exception_ptr error;
  try {
    stream = TcpStream::connect(host_, port_, deadline);
    connecting_ = stream.get();  // shutdown() may cancel the handshake
    // Handshake: AUTH and CLIENT SETNAME, pipelined, replies checked in order.
    std::string frame;
    std::size_t expected = 0;
    if (!options_.password.empty()) {
      std::vector<std::string_view> parts{"AUTH"};
      if (!options_.username.empty()) parts.push_back(options_.username);
      parts.push_back(options_.password);
      protocol::append_command(frame, parts);
      ++expected;
    }
    if (!options_.client_name.empty()) {
      std::string_view parts[] = {"CLIENT", "SETNAME", options_.client_name};
      protocol::append_command(frame, parts);
      ++expected;
    }
    if (expected) {
      stream->write_all(frame, deadline);
      protocol::ReplyParser parser(options_.protocol_limits);
      protocol::ReadBuffer in;
      while (expected > 0) {
        std::size_t n = stream->read_some(in.prepare(), deadline);
        if (n == 0) throw ConnectError("connection to " + host_ + ":" + std::to_string(port_) + " closed during handshake", 0);
        in.commit(n);
        protocol::RespValue reply;
        while (expected > 0 && in.size() > 0) {
          auto r = parser.parse(in.data(), reply);
          if (r.status == protocol::ParseStatus::incomplete) break;
          if (r.status == protocol::ParseStatus::error) throw ConnectError("bad handshake reply: " + r.error, 0);
          in.consume(r.consumed);
          --expected;
          if (reply.type == protocol::RespValue::Type::error) throw_remote_error(reply.str);
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
  link_ = std::make_shared<Link>();
  link_->stream = std::move(stream);
  loop_.spawn_fiber([this, link = link_] { reader_loop(link); });
  return nullptr;
}

void ClientConnection::writer_loop() {
  std::vector<std::shared_ptr<PendingCall>> batch;
  std::vector<std::string_view> parts;
  while (!closing_) {
    if (outbox_.empty()) {
      Waiter waiter;
      writer_waiter_ = &waiter;
      waiter.park();
      writer_waiter_ = nullptr;
      continue;
    }
    if (!link_ || link_->broken) {
      if (std::exception_ptr error = connect()) {
        // Nothing was sent: every queued call fails with the connect error.
        batch.swap(outbox_);
        for (auto& call : batch) fail(*call, error);
        batch.clear();
        continue;
      }
    }
    batch.swap(outbox_);
    parts.clear();
    std::shared_ptr<Link> link = link_;
    for (auto& call : batch) {
      if (call->abandoned.load(std::memory_order_relaxed)) continue;  // timed out before it left
      link->inflight.push_back(call);
      parts.push_back(call->frame);
    }
    batch.clear();
    if (parts.empty()) continue;
    std::string failure;
    try {
      link->stream->write_all(parts, Deadline::never());
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) break_link(link, failure);
  }
}

void ClientConnection::reader_loop(std::shared_ptr<Link> link) {
  protocol::ReplyParser parser(options_.protocol_limits);
  protocol::ReadBuffer in;
  protocol::RespValue reply;
  std::string failure;
  try {
    for (;;) {
      std::size_t n = link->stream->read_some(in.prepare(), Deadline::never());
      if (n == 0) {
        failure = "closed by the server";
        break;
      }
      in.commit(n);
      while (in.size() > 0) {
        auto r = parser.parse(in.data(), reply);
        if (r.status == protocol::ParseStatus::incomplete) break;
        if (r.status == protocol::ParseStatus::error) throw IoError("unparsable reply: " + r.error, 0);
        in.consume(r.consumed);
        if (link->inflight.empty()) throw IoError("reply received with no request in flight", 0);
        std::shared_ptr<PendingCall> call = std::move(link->inflight.front());
        link->inflight.pop_front();
        call->reply = std::move(reply);
        reply = {};
        call->done->set();  // a timed-out (abandoned) call's late reply goes nowhere
      }
      in.shrink_if_idle();
    }
  } catch (const std::exception& e) {
    failure = e.what();
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
  GREENRPC_LOG(debug, "connection to " + host_ + ":" + std::to_string(port_) + " lost: " + why);
  auto error = std::make_exception_ptr(
      ConnectionLostError("connection to " + host_ + ":" + std::to_string(port_) + " lost with the call in flight (" + why + ")", 0));
  for (auto& call : link->inflight) fail(*call, error);
  link->inflight.clear();
}

}  // namespace greenrpc::detail
