#pragma once
// The rich signature shared by the codec_decode fuzz target and the wire soak test
// (tests/server/wire_soak_test.cpp): nested MSGPACK_DEFINE_MAP structs, std::optional,
// std::vector, std::map, std::set, std::tuple, enums, greenrpc::Bytes, integers of several widths,
// bool, float and double. The fuzz corpus's seeds are arguments of this shape.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <msgpack.hpp>

#include "greenrpc/codec/bytes.hpp"

namespace fuzz_model {


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

}  // namespace fuzz_model
