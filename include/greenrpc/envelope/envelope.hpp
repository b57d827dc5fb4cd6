#pragma once
// The request envelope (docs/protocol.md, "Envelope"): an optional first element of a request
// carrying the caller's remaining time and, when a shared secret is configured, a sequence
// number and an HMAC-SHA256 tag. A signed reply is a two-element array [tag, reply].
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "greenrpc/envelope/hmac_key.hpp"

namespace greenrpc::envelope {

inline constexpr std::string_view kRequestDomain = "greenrpc-req-v1";
inline constexpr std::string_view kReplyDomain = "greenrpc-rep-v1";
inline constexpr std::size_t kNonceSize = 16;
inline constexpr std::uint64_t kNoDeadline = ~std::uint64_t{0};
// A signed reply is exactly kSignedReplyHead, the 32-byte tag, "\r\n", then the reply element
// (parsers accept only canonical lengths, so no other spelling of [tag, reply] gets through).
inline constexpr std::string_view kSignedReplyHead = "*2\r\n$32\r\n";
inline constexpr std::size_t kSignedReplyPrefix = kSignedReplyHead.size() + 32 + 2;

struct Header {
  std::uint64_t seq = 0;                     // signed: strictly increasing per connection, from 1
  std::optional<std::uint64_t> deadline_ms;  // the caller's remaining time when it sent the request
  std::optional<Tag> tag;                    // HMAC-SHA256, present when signed
};

class EnvelopeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// An envelope element is a msgpack map (first byte 0x80–0x8f). Command names are printable
// ASCII, so the two never collide.
inline bool is_envelope(std::string_view element) noexcept {
  return !element.empty() && (static_cast<unsigned char>(element[0]) & 0xf0) == 0x80;
}

// Throws EnvelopeError on anything but a well-formed version-1 envelope.
Header parse(std::string_view element);
void append_encoded(std::string& out, const Header& header);

// HMAC over: "greenrpc-req-v1" | nonce (16 bytes) | seq (u64 BE) | deadline_ms (u64 BE, all ones
// when absent) | for each element after the envelope (command name, then arguments): its length
// (u64 BE) | its bytes.
Tag request_tag(const HmacKey& key, std::string_view nonce, const Header& header,
                std::span<const std::string_view> elements);
// HMAC over: "greenrpc-rep-v1" | nonce | seq of the request (u64 BE) | the exact RESP bytes of the
// reply element (e.g. "$1\r\n\x03\r\n" or "-CODE message\r\n").
Tag reply_tag(const HmacKey& key, std::string_view nonce, std::uint64_t seq, std::string_view reply_bytes);

}  // namespace greenrpc::envelope
