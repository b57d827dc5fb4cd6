#include "resp_reply_encoder.hpp"

#include "greenrpc/envelope/envelope.hpp"
#include "greenrpc/protocol/resp_writer.hpp"
#include "greenrpc/rpc/error_line.hpp"

namespace greenrpc {

void RespReplyEncoder::ok_bytes(std::string_view msgpack) {
  // Signed replies are hashed over their bytes in element_: copied as before.
  if (target_ != out_ || msgpack.size() < kByReference || has_deferred()) return protocol::append_bulk(*target_, msgpack);
  out_->append("$" + std::to_string(msgpack.size()) + "\r\n");
  deferred_ = Deferred{out_->size(), msgpack};
  out_->append("\r\n");
}

void RespReplyEncoder::write_error(const ErrorReport& report) {
  target_->push_back('-');
  append_error_line(*target_, report);
  target_->append("\r\n", 2);
}

void RespReplyEncoder::simple(std::string_view text) { protocol::append_simple(*target_, text); }

void RespReplyEncoder::bulk(std::string_view bytes) { protocol::append_bulk(*target_, bytes); }

void RespReplyEncoder::integer(std::int64_t value) { protocol::append_integer(*target_, value); }

void RespReplyEncoder::nil() { protocol::append_null(*target_); }

void RespReplyEncoder::array_header(std::size_t elements) { protocol::append_array_header(*target_, elements); }

void RespReplyEncoder::begin_signed() {
  element_.clear();
  target_ = &element_;
}

// docs/protocol.md: "*2\r\n$32\r\n<tag>\r\n<reply element>".
void RespReplyEncoder::end_signed(std::span<const unsigned char, 32> tag) {
  target_ = out_;
  out_->append(envelope::kSignedReplyHead);
  out_->append(reinterpret_cast<const char*>(tag.data()), tag.size());
  out_->append("\r\n", 2);
  out_->append(element_);
  element_.clear();
}

}  // namespace greenrpc
