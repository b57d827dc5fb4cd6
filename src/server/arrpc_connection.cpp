#include "arrpc_connection.hpp"

#include "arrpc_wire.hpp"
#include "server_core.hpp"

namespace greenrpc {
namespace {

// A signed request's wrapper around its data: fixmap, "arrpc.sign" and a 64-digit str, "data"
// and a bin32 header (88 bytes), rounded up.
constexpr std::size_t kSignedWrapperBytes = 128;

}  // namespace

ArrpcConnection::ArrpcConnection(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id)
    : FramedConnection(worker, std::move(stream), id), framer_(frame_limits(core_.options())) {}

protocol::MsgpackFrameLimits ArrpcConnection::frame_limits(const ServerOptions& options) noexcept {
  protocol::MsgpackFrameLimits limits;
  limits.max_frame_bytes = options.protocol_limits.max_bulk_bytes + kSignedWrapperBytes;
  limits.max_depth = options.decode_limits.max_depth;
  limits.max_array = options.decode_limits.max_array;
  limits.max_map = options.decode_limits.max_map;
  return limits;
}

void ArrpcConnection::release_protocol_buffers() { framer_ = protocol::MsgpackFramer(frame_limits(core_.options())); }

FramedConnection::Frame ArrpcConnection::next_frame(Clock::time_point arrived) {
  const protocol::ParseResult r = framer_.next(in_.data());
  if (r.status == protocol::ParseStatus::incomplete) return Frame::incomplete;
  // Not one msgpack value within the limits: the stream cannot be framed. Say so, then close.
  if (r.status == protocol::ParseStatus::error) return framing_failed(r.error);
  serve_message(in_.data().substr(0, r.consumed), arrived);
  in_.consume(r.consumed);  // after dispatch: the message views the buffer
  return Frame::served;
}

void ArrpcConnection::serve_message(std::string_view frame, Clock::time_point arrived) {
  std::string_view message = frame;
  DecodedRequest request{std::span<const std::string_view>(&message, 1), nullptr, arrived, /*to_message_handler=*/true};
  const std::optional<arrpc::SignedRequest> signed_request = arrpc::parse_signed(frame);
  if (signed_request && core_.options().arrpc_signed_requests == ArrpcSignedRequests::refuse) {
    dispatcher_.refuse_signature(request, arrpc::kSignedRefused, reply_);
    return;
  }
  if (!core_.signing_keys().empty()) {
    if (signed_request) {
      if (!arrpc::signature_matches(*signed_request, core_.signing_keys())) {
        dispatcher_.refuse_signature(request, arrpc::kBadSignature, reply_);
        return;
      }
      message = signed_request->data;  // `request` views it
      request.wire_signed = true;
    } else if (core_.signing_required()) {
      dispatcher_.refuse_signature(request, arrpc::kBadSignature, reply_);
      return;
    }
  }
  // Without a secret, a signed-looking map is a message like any other (as arrpc's own server
  // hands it to its handler whole).
  dispatcher_.dispatch(request, reply_);
}

}  // namespace greenrpc
