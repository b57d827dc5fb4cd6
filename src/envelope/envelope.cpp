#include "greenrpc/envelope/envelope.hpp"

#include <msgpack.hpp>
#include <cstring>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/encode.hpp"
#include "greenrpc/codec/unpack_value.hpp"

namespace greenrpc::envelope {

Header parse(std::string_view element) {
  if (!is_envelope(element)) throw EnvelopeError("not an envelope");
  // Small, fixed limits: an envelope has four short fields (room is left for later versions'
  // extra ones, which are ignored). Fields are read in place: nothing is copied.
  static constexpr codec::DecodeLimits kLimits{.max_depth = 2, .max_array = 8, .max_map = 8, .max_str = 64,
                                               .max_bin = 64, .max_ext = 0};
  msgpack::zone zone(256);
  msgpack::object map;
  try {
    map = codec::unpack_value(zone, element, kLimits);
  } catch (const codec::DecodeError& e) {
    throw EnvelopeError(std::string("malformed envelope: ") + e.what());
  }
  Header header;
  bool version_seen = false;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object& key = map.via.map.ptr[i].key;
    const msgpack::object& value = map.via.map.ptr[i].val;
    if (key.type != msgpack::type::STR) throw EnvelopeError("envelope keys must be strings");
    std::string_view name(key.via.str.ptr, key.via.str.size);
    if (name == "v") {
      if (value.type != msgpack::type::POSITIVE_INTEGER || value.via.u64 != 1)
        throw EnvelopeError("unsupported envelope version");
      version_seen = true;
    } else if (name == "seq") {
      if (value.type != msgpack::type::POSITIVE_INTEGER) throw EnvelopeError("seq must be a positive integer");
      header.seq = value.via.u64;
    } else if (name == "dl") {
      if (value.type != msgpack::type::POSITIVE_INTEGER) throw EnvelopeError("dl must be a non-negative integer");
      header.deadline_ms = value.via.u64;
    } else if (name == "tag") {
      if (value.type != msgpack::type::BIN || value.via.bin.size != 32) throw EnvelopeError("tag must be 32 bytes of bin");
      Tag tag;
      std::memcpy(tag.data(), value.via.bin.ptr, 32);
      header.tag = tag;
    }  // unknown keys are ignored: later versions may add fields
  }
  if (!version_seen) throw EnvelopeError("envelope without version");
  return header;
}

void append_encoded(std::string& out, const Header& header) {
  codec::StringSink sink(out);
  msgpack::packer<codec::StringSink> pk(sink);
  pk.pack_map(1 + (header.seq ? 1 : 0) + (header.deadline_ms ? 1 : 0) + (header.tag ? 1 : 0));
  pk.pack(std::string_view("v"));
  pk.pack_uint8(1);
  if (header.seq) {
    pk.pack(std::string_view("seq"));
    pk.pack_uint64(header.seq);
  }
  if (header.deadline_ms) {
    pk.pack(std::string_view("dl"));
    pk.pack_uint64(*header.deadline_ms);
  }
  if (header.tag) {
    pk.pack(std::string_view("tag"));
    pk.pack_bin(32);
    pk.pack_bin_body(reinterpret_cast<const char*>(header.tag->data()), 32);
  }
}

Tag request_tag(const HmacKey& key, std::string_view nonce, const Header& header,
                std::span<const std::string_view> elements) {
  // The fixed header (domain, nonce, seq, dl) goes to SHA-256 in one update.
  HmacKey::Stream s(key);
  char head[64];
  std::size_t n = 0;
  auto put = [&](std::string_view bytes) {
    std::memcpy(head + n, bytes.data(), bytes.size());
    n += bytes.size();
  };
  auto put_u64 = [&](std::uint64_t v) {
    for (int i = 7; i >= 0; --i) head[n++] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(kRequestDomain);
  if (nonce.size() <= kNonceSize) {
    put(nonce);
  } else {  // not a greenrpc nonce, but hash it faithfully
    s.update(std::string_view(head, n)).update(nonce);
    n = 0;
  }
  put_u64(header.seq);
  put_u64(header.deadline_ms.value_or(kNoDeadline));
  s.update(std::string_view(head, n));
  for (std::string_view e : elements) s.update_u64(e.size()).update(e);
  return s.finish();
}

Tag reply_tag(const HmacKey& key, std::string_view nonce, std::uint64_t seq, std::string_view reply_bytes) {
  HmacKey::Stream s(key);
  s.update(kReplyDomain).update(nonce).update_u64(seq).update(reply_bytes);
  return s.finish();
}

}  // namespace greenrpc::envelope
