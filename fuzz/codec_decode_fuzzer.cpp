// libFuzzer target: typed decoding (codec::decode<T>) of a rich signature: nested
// MSGPACK_DEFINE_MAP structs, std::optional, std::vector, std::map, std::set, std::tuple, enums,
// greenrpc::Bytes, integers of several widths, bool, float and double.
//
// Invariants: decode either succeeds or throws codec::DecodeError (anything else escaping is an
// uncaught exception, which libFuzzer reports); on success, encoding the value and decoding it
// again gives the same value, and that second encoding is byte for byte the first.
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
#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

namespace fuzzapp {

enum class Kind : std::uint8_t { none = 0, small = 1, large = 200 };
enum class Level : std::int16_t { low = -300, mid = 0, high = 300 };

struct Point {
  std::int32_t x = 0;
  std::int32_t y = 0;
  bool operator==(const Point&) const = default;
  MSGPACK_DEFINE_MAP(x, y);
};

struct Item {
  std::string name;
  std::optional<std::int64_t> id;
  std::vector<std::uint16_t> codes;
  Level level = Level::mid;
  std::optional<Point> where;
  bool operator==(const Item&) const = default;
  MSGPACK_DEFINE_MAP(name, id, codes, level, where);
};

struct Order {
  Kind kind = Kind::none;
  std::vector<Item> items;
  std::map<std::string, std::optional<Item>> by_name;
  std::optional<greenrpc::Bytes> blob;
  std::map<std::int32_t, std::vector<double>> series;
  std::set<std::string> labels;
  bool flag = false;
  float ratio = 0;
  std::uint64_t total = 0;
  std::optional<std::vector<std::optional<std::string>>> notes;
  std::tuple<std::int8_t, greenrpc::Bytes, std::optional<Kind>> extra;
  bool operator==(const Order&) const = default;
  MSGPACK_DEFINE_MAP(kind, items, by_name, blob, series, labels, flag, ratio, total, notes, extra);
};

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

template <typename T>
void fuzz_decode(std::string_view input) {
  T value;
  try {
    value = decode<T>(input, kLimits);
  } catch (const DecodeError& e) {
    FUZZ_CHECK(!e.message().empty());
    return;
  }
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
