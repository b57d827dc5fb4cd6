#pragma once
// One RESP client connection: RESP framing (RequestParser) and reply bytes (RespReplyEncoder) on
// FramedConnection's loop, which reads, dispatches every complete frame in the buffer and writes
// all their replies with one write. Routing, the envelope and reply shapes are the Dispatcher's.
#include <cstdint>
#include <memory>

#include "framed_connection.hpp"
#include "greenrpc/protocol/request_parser.hpp"
#include "resp_reply_encoder.hpp"

namespace greenrpc {

class RespConnection final : public FramedConnection {
 public:
  RespConnection(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id);

 private:
  Frame next_frame(Clock::time_point arrived) override;
  ReplyEncoder& replies() noexcept override { return reply_; }
  std::size_t protocol_memory_bytes() const noexcept override { return parser_.memory_bytes() + reply_.memory_bytes(); }
  void release_protocol_buffers() override;
  void shrink_protocol_buffers_if_idle() override { parser_.shrink_if_idle(); }
  void release_large_protocol_buffers() override { reply_.release_large_buffers(); }
  DeferredReply take_deferred() noexcept override;
  std::size_t deferred_size() const noexcept override { return reply_.deferred_size(); }

  protocol::RequestParser parser_;
  RespReplyEncoder reply_{out_};
};

}  // namespace greenrpc
