#pragma once
// JSON <-> msgpack, the CLI's two conversions: arguments typed as JSON become msgpack values,
// msgpack replies are printed as JSON.
//
// JSON -> msgpack: null, true/false, integers (int64 and uint64: the full 64-bit range, in the
// smallest msgpack form), other numbers as float64, strings as str, arrays, objects as maps with
// str keys (in the order written). Bytes and ext values have no JSON form, so two conventions
// stand for them, each an object with exactly these keys:
//   {"$bytes": "<base64>"}  or  {"$hex": "<hex digits>"}    -> bin
//   {"$ext": <type -128..127>, "data": "<base64>"}  or  {"$ext": <type>, "hex": "<hex>"}  -> ext
//
// msgpack -> JSON: bin as a base64 string (a hex string with BytesFormat::hex); ext as the
// object above; float NaN and infinities as the strings "NaN", "Infinity", "-Infinity"; a map
// key that is not a string as the text of its JSON form (1 -> "1", [1,2] -> "[1,2]", a bin key
// as its base64 or hex text).
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "greenrpc/codec/limits.hpp"

namespace greenrpc::cli {

// Objects keep their keys in the order written (a struct's fields as the server sent them).
using Json = nlohmann::ordered_json;

// An argument that cannot be sent: not JSON, an integer outside the 64-bit range, a malformed
// $bytes/$hex/$ext object, nesting deeper than kMaxJsonDepth.
class JsonInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Deeper than a greenrpc server decodes (codec::DecodeLimits::max_depth is 64) is refused here.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Exactly one JSON value (surrounding whitespace allowed), checked as above.
Json parse_json_argument(std::string_view text);
// Appends the msgpack encoding of `value`.
void append_msgpack(std::string& out, const Json& value);
// parse_json_argument + append_msgpack.
std::string json_argument_to_msgpack(std::string_view text);

enum class BytesFormat { base64, hex };

// `bytes` must be exactly one msgpack value within `limits`; throws codec::DecodeError otherwise.
Json msgpack_to_json(std::string_view bytes, BytesFormat format, const codec::DecodeLimits& limits = {});
Json msgpack_object_to_json(const msgpack::object& value, BytesFormat format);

// One line of compact JSON (indented when `pretty`); invalid UTF-8 in strings becomes U+FFFD.
std::string render_json(const Json& value, bool pretty = false);

}  // namespace greenrpc::cli
