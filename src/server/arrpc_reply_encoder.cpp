#include "arrpc_reply_encoder.hpp"

#include <stdexcept>

#include "arrpc_wire.hpp"
#include "greenrpc/codec/encode.hpp"

namespace greenrpc {
void ArrpcReplyEncoder::write_error(const ErrorReport& report) {
  arrpc::append_str(*out_, arrpc::error_text(report));
}

void ArrpcReplyEncoder::simple(std::string_view text) { arrpc::append_str(*out_, text); }

void ArrpcReplyEncoder::bulk(std::string_view bytes) {
  codec::StringSink sink(*out_);
  msgpack::packer<codec::StringSink> p(sink);
  p.pack_bin(static_cast<std::uint32_t>(bytes.size()));
  p.pack_bin_body(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
}

void ArrpcReplyEncoder::integer(std::int64_t value) { codec::encode(*out_, value); }

void ArrpcReplyEncoder::nil() { codec::encode_nil(*out_); }

void ArrpcReplyEncoder::array_header(std::size_t elements) {
  codec::StringSink sink(*out_);
  msgpack::packer<codec::StringSink>(sink).pack_array(static_cast<std::uint32_t>(elements));
}

void ArrpcReplyEncoder::begin_signed() { throw std::logic_error("greenrpc: arrpc replies are never signed"); }

std::string_view ArrpcReplyEncoder::signed_element() const {
  throw std::logic_error("greenrpc: arrpc replies are never signed");
}

void ArrpcReplyEncoder::end_signed(std::span<const unsigned char, 32>) {
  throw std::logic_error("greenrpc: arrpc replies are never signed");
}

}  // namespace greenrpc
