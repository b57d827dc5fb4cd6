#pragma once
// One arrpc client connection (docs/protocol.md, "arrpc wire"): each request is one msgpack value
// with no length prefix, framed by walking it (MsgpackFramer: never by read sizes, so a message of
// exactly 4096 bytes or two in one read are what they are), checked against arrpc's signature when
// the server has an auth_secret, and handed to the App's message handler through the Dispatcher;
// each reply is one msgpack value, in order. The loop, limits, budget, dormancy and stop are
// FramedConnection's, as for RESP.
#include <cstdint>
#include <memory>

#include "arrpc_reply_encoder.hpp"
#include "framed_connection.hpp"
#include "greenrpc/protocol/msgpack_framer.hpp"
#include "greenrpc/server/options.hpp"

namespace greenrpc {

class ArrpcConnection final : public FramedConnection {
 public:
  ArrpcConnection(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id);

  // The framing limits of a server's options: a message as large as one RESP argument
  // (protocol_limits.max_bulk_bytes) plus room for the signed wrapper, nested and as wide as
  // decode_limits allows.
  static protocol::MsgpackFrameLimits frame_limits(const ServerOptions& options) noexcept;

 private:
  Frame next_frame(Clock::time_point arrived) override;
  ReplyEncoder& replies() noexcept override { return reply_; }
  std::size_t protocol_memory_bytes() const noexcept override { return framer_.memory_bytes(); }
  void release_protocol_buffers() override;
  // Checks the signature policy, then dispatches the message of `frame` (or refuses it).
  void serve_message(std::string_view frame, Clock::time_point arrived);

  protocol::MsgpackFramer framer_;
  ArrpcReplyEncoder reply_{out_};
};

}  // namespace greenrpc
