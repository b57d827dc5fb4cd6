// libFuzzer target: envelope verification as the server does it: a RESP request whose first
// element is an envelope (a msgpack map) is parsed with envelope::parse, and when it carries a
// tag, request_tag over the remaining elements, with a fixed key and nonce, is compared to it.
//
// Invariants: no crash or sanitizer report; parse either returns a Header or throws
// EnvelopeError; a parsed header encoded with append_encoded parses back to the same header.
// A tag match is possible only for the signed seeds (fuzz/corpus/envelope), never expected of
// mutated input, and not treated as a failure.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "check.hpp"
#include "greenrpc/envelope/envelope.hpp"
#include "greenrpc/envelope/hmac_key.hpp"
#include "greenrpc/protocol/request_parser.hpp"

namespace {

namespace envelope = greenrpc::envelope;
using greenrpc::HmacKey;
using greenrpc::protocol::ParseStatus;
using greenrpc::protocol::ProtocolLimits;
using greenrpc::protocol::RequestParser;

// The seeds are signed with these (fuzz/gen_corpus.py).
constexpr std::string_view kSecret = "greenrpc-fuzz-secret";
constexpr std::string_view kNonce = "0123456789abcdef";

void verify(std::span<const std::string_view> elements) {
  if (elements.empty() || !envelope::is_envelope(elements[0])) return;
  static const HmacKey key(kSecret);
  envelope::Header header;
  try {
    header = envelope::parse(elements[0]);
  } catch (const envelope::EnvelopeError& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
    return;
  }
  std::string encoded;
  envelope::append_encoded(encoded, header);
  const envelope::Header back = envelope::parse(encoded);
  FUZZ_CHECK(back.seq == header.seq && back.deadline_ms == header.deadline_ms && back.tag == header.tag);

  if (!header.tag) return;
  const greenrpc::Tag expected = envelope::request_tag(key, kNonce, header, elements.subspan(1));
  const bool match = HmacKey::equal(*header.tag, expected);
  // The tag of the reply the server would send, over the bytes that follow (as a reply element).
  if (match) (void)envelope::reply_tag(key, kNonce, header.seq, elements.size() > 1 ? elements[1] : "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  RequestParser parser(ProtocolLimits{.max_bulk_bytes = 1024, .max_array_elements = 32, .max_inline_bytes = 1024,
                                      .max_reply_depth = 16});
  std::size_t at = 0;
  while (at < input.size()) {  // every request in the input
    const auto r = parser.parse(input.substr(at));
    if (r.status != ParseStatus::complete) break;
    verify(parser.args());
    at += r.consumed;
  }
  // The first bytes alone as an envelope element too, so mutations of the msgpack itself are not
  // lost to RESP framing errors.
  const std::string_view element = input.substr(0, input.find('\r'));
  verify(std::span<const std::string_view>(&element, 1));
  return 0;
}
