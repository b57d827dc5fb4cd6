#include "resp_connection.hpp"

#include "server_core.hpp"

namespace greenrpc {

RespConnection::RespConnection(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id)
    : FramedConnection(worker, std::move(stream), id), parser_(core_.options().protocol_limits) {}

void RespConnection::release_protocol_buffers() {
  parser_ = protocol::RequestParser(core_.options().protocol_limits);
  reply_.release_buffers();
}

FramedConnection::DeferredReply RespConnection::take_deferred() noexcept {
  const RespReplyEncoder::Deferred d = reply_.take_deferred();
  return {d.at, d.bytes};
}

FramedConnection::Frame RespConnection::next_frame(Clock::time_point arrived) {
  protocol::ParseResult r = parser_.parse(in_.data());
  if (r.status == protocol::ParseStatus::incomplete) return Frame::incomplete;
  // A protocol violation: the stream can no longer be framed. Reply, then close.
  if (r.status == protocol::ParseStatus::error) return framing_failed(r.error);
  auto args = parser_.args();
  bool keep_open = true;
  if (!args.empty()) keep_open = dispatcher_.dispatch_elements(args, arrived, reply_) == AfterReply::keep_open;
  if (!keep_open) close_reason_ = "QUIT";
  in_.consume(r.consumed);  // after dispatch: args view the buffer
  return keep_open ? Frame::served : Frame::last;
}

}  // namespace greenrpc
