#pragma once
// The arrpc ReplyEncoder: a reply is one msgpack value appended to the connection's output
// buffer — a result's bytes as they are, an error as the string arrpc's client raises for
// (arrpc::error_text). arrpc replies are never signed (its signatures cover requests only).
#include <string>

#include "greenrpc/rpc/reply_encoder.hpp"

namespace greenrpc {

class ArrpcReplyEncoder final : public ReplyEncoder {
 public:
  explicit ArrpcReplyEncoder(std::string& out) : out_(&out) {}

  void ok_bytes(std::string_view msgpack) override { out_->append(msgpack); }
  std::size_t bytes_encoded() const noexcept override { return out_->size(); }
  // The built-ins' shapes, as msgpack (no built-in is reachable from arrpc: every message goes to
  // the message handler).
  void simple(std::string_view text) override;
  void bulk(std::string_view bytes) override;
  void integer(std::int64_t value) override;
  void nil() override;
  void array_header(std::size_t elements) override;

  // Only an envelope-signed request is answered signed, and arrpc has no envelope: std::logic_error.
  void begin_signed() override;
  std::string_view signed_element() const override;
  void end_signed(std::span<const unsigned char, 32> tag) override;

 protected:
  void write_error(const ErrorReport& report) override;

 private:
  std::string* out_;  // the connection's output buffer
};

}  // namespace greenrpc
