// libFuzzer target: typed decoding (codec::decode<T>) of a rich signature: nested
// MSGPACK_DEFINE_MAP structs, std::optional, std::vector, std::map, std::set, std::tuple, enums,
// greenrpc::Bytes, integers of several widths, bool, float and double.
//
// Invariants: decode either succeeds or throws codec::DecodeError (anything else escaping is an
// uncaught exception, which libFuzzer reports); on success, encoding the value and decoding it
// again gives the same value, and that second encoding is byte for byte the first. The same input
// is also decoded with Coercion::pydantic (fuzz_coerced).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "check.hpp"
#include "order_model.hpp"
#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

namespace fuzzapp {

using namespace fuzz_model;

// A command's argument list, as a handler taking (Order, vector<Point>, optional<Kind>) sees it.
using Arguments = std::tuple<Order, std::vector<Point>, std::optional<Kind>>;

}  // namespace fuzzapp

namespace {

using greenrpc::codec::decode;
using greenrpc::codec::DecodeError;
using greenrpc::codec::DecodeLimits;
using greenrpc::codec::encode;

// Small bounds, so a few KiB of input reach them.
constexpr DecodeLimits kLimits{.max_depth = 12, .max_array = 128, .max_map = 64, .max_str = 1024, .max_bin = 1024,
                               .max_ext = 64};

// Coercion::pydantic accepts everything strict mode accepts, with the same value, and what it
// makes of the rest is a valid T (it re-encodes to something strict mode reads).
template <typename T>
void fuzz_coerced(std::string_view input, const std::optional<T>& strict) {
  DecodeLimits lax = kLimits;
  lax.coercion = greenrpc::codec::Coercion::pydantic;
  std::optional<T> value;
  try {
    value = decode<T>(input, lax);
  } catch (const DecodeError& e) {
    FUZZ_CHECK(!e.message().empty());
    FUZZ_CHECK(!strict && "pydantic coercion refuses a value strict decoding accepts");
    return;
  }
  if (strict && *strict == *strict) FUZZ_CHECK(*value == *strict);
  try {
    (void)decode<T>(encode(*value));
  } catch (const DecodeError& e) {
    std::fprintf(stderr, "re-decoding a coerced value failed: %s\n", e.what());
    FUZZ_CHECK(!"a coerced value re-encodes to something strictly decodable");
  }
}

template <typename T>
void fuzz_decode(std::string_view input) {
  T value;
  try {
    value = decode<T>(input, kLimits);
  } catch (const DecodeError& e) {
    FUZZ_CHECK(!e.message().empty());
    fuzz_coerced<T>(input, std::nullopt);
    return;
  }
  fuzz_coerced<T>(input, value);
  const std::string first = encode(value);
  T again;
  try {
    again = decode<T>(first);  // default limits: re-encoding (e.g. STR read as Bytes) may grow
  } catch (const DecodeError& e) {
    std::fprintf(stderr, "re-decoding failed: %s\n", e.what());
    FUZZ_CHECK(!"a decoded value re-encodes to something decodable");
  }
  // NaN (in a double or float field) is the one value not equal to itself.
  if (value == value) FUZZ_CHECK(again == value);
  FUZZ_CHECK(encode(again) == first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  fuzz_decode<fuzzapp::Order>(input);
  fuzz_decode<fuzzapp::Arguments>(input);
  return 0;
}
