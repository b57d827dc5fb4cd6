// encode -> decode round trips of every supported type.

#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

namespace app {

enum class Color : std::uint8_t { red = 1, green = 2, blue = 200 };
enum Plain { plain_a = -5, plain_b = 7 };

struct Point {
    int x = 0;
    int y = 0;
    bool operator==(const Point&) const = default;
    MSGPACK_DEFINE_MAP(x, y);
};

struct Shape {
    std::string name;
    std::vector<Point> points;
    Point origin;
    std::optional<Color> color;
    greenrpc::Bytes blob;
    std::map<std::string, std::optional<double>> tags;
    bool operator==(const Shape&) const = default;
    MSGPACK_DEFINE_MAP(name, points, origin, color, blob, tags);
};

struct Pair {
    std::string key;
    std::int64_t value = 0;
    bool operator==(const Pair&) const = default;
    MSGPACK_DEFINE_ARRAY(key, value);
};

/// Large enough that vectors of it exceed the codec's eager allocation budget.
struct Big {
    std::array<char, 8192> padding{};
    int value = 0;
    bool operator==(const Big&) const = default;
    MSGPACK_DEFINE_MAP(value);
};

}  // namespace app

namespace {

using greenrpc::Bytes;
using greenrpc::codec::decode;
using greenrpc::codec::encode;

template <typename T>
T round_trip(const T& value) {
    return decode<T>(encode(value));
}

template <typename T>
void expect_round_trip(const T& value) {
    EXPECT_EQ(round_trip(value), value);
}

TEST(RoundTrip, Integers) {
    expect_round_trip(0);
    expect_round_trip(-1);
    expect_round_trip(std::numeric_limits<int>::min());
    expect_round_trip(std::numeric_limits<int>::max());
    expect_round_trip(std::numeric_limits<std::int64_t>::min());
    expect_round_trip(std::numeric_limits<std::int64_t>::max());
    expect_round_trip(std::numeric_limits<std::uint64_t>::max());
    expect_round_trip(std::numeric_limits<std::int8_t>::min());
    expect_round_trip(std::numeric_limits<std::uint8_t>::max());
    expect_round_trip(std::numeric_limits<std::int16_t>::min());
    expect_round_trip(std::numeric_limits<std::uint16_t>::max());
    expect_round_trip(std::numeric_limits<std::uint32_t>::max());
    expect_round_trip('x');
}

TEST(RoundTrip, FloatingPointAndBool) {
    expect_round_trip(0.0);
    expect_round_trip(-2.5);
    expect_round_trip(3.141592653589793);
    expect_round_trip(std::numeric_limits<double>::max());
    expect_round_trip(std::numeric_limits<double>::lowest());
    expect_round_trip(std::numeric_limits<double>::denorm_min());
    expect_round_trip(std::numeric_limits<double>::infinity());
    expect_round_trip(1.25f);
    expect_round_trip(std::numeric_limits<float>::max());
    EXPECT_TRUE(std::isnan(round_trip(std::numeric_limits<double>::quiet_NaN())));
    expect_round_trip(true);
    expect_round_trip(false);
}

TEST(RoundTrip, StringsAndBytes) {
    expect_round_trip(std::string());
    expect_round_trip(std::string("hello"));
    expect_round_trip(std::string("h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x9a\x80"));  // héllo wörld ✓ 🚀
    expect_round_trip(std::string("nul\0inside", 10));
    expect_round_trip(std::string(70000, 'z'));  // str32
    expect_round_trip(Bytes());
    expect_round_trip(Bytes(std::string("\x00\x01\xff\xfe", 4)));
    expect_round_trip(Bytes(std::string(300, '\x80')));  // bin16
    expect_round_trip(std::vector<unsigned char>{0, 1, 255});
    expect_round_trip(std::vector<char>{'a', '\0', 'b'});
    expect_round_trip(std::vector<std::byte>{std::byte{1}, std::byte{255}});
}

TEST(RoundTrip, Enums) {
    expect_round_trip(app::Color::red);
    expect_round_trip(app::Color::blue);
    expect_round_trip(app::plain_a);
    expect_round_trip(app::plain_b);
    expect_round_trip(std::vector<app::Color>{app::Color::green, app::Color::blue});
}

TEST(RoundTrip, Optionals) {
    expect_round_trip(std::optional<int>());
    expect_round_trip(std::optional<int>(42));
    expect_round_trip(std::optional<std::string>("x"));
    expect_round_trip(std::optional<app::Point>(app::Point{1, 2}));
    expect_round_trip(std::vector<std::optional<int>>{1, std::nullopt, 3});
}

TEST(RoundTrip, Sequences) {
    expect_round_trip(std::vector<int>());
    expect_round_trip(std::vector<int>{1, 2, 3});
    expect_round_trip(std::vector<bool>{true, false, true});
    expect_round_trip(std::vector<std::string>{"a", "", "ccc"});
    expect_round_trip(std::vector<std::vector<double>>{{}, {1.5}, {2, 3}});
    expect_round_trip(std::deque<int>{4, 5});
    expect_round_trip(std::list<std::string>{"x", "y"});
    expect_round_trip(std::array<int, 3>{7, 8, 9});
    expect_round_trip(std::array<unsigned char, 2>{0xab, 0xcd});
    expect_round_trip(std::set<std::string>{"b", "a"});
    expect_round_trip(std::unordered_set<int>{1, 2, 3});
}

TEST(RoundTrip, VectorsBeyondTheEagerAllocationBudget) {
    std::vector<app::Big> bigs(300);
    for (int i = 0; i < 300; ++i) bigs[static_cast<std::size_t>(i)].value = i;
    expect_round_trip(bigs);
    std::vector<int> many(300000);
    for (int i = 0; i < 300000; ++i) many[static_cast<std::size_t>(i)] = i;
    expect_round_trip(many);
}

TEST(RoundTrip, Maps) {
    expect_round_trip(std::map<std::string, int>());
    expect_round_trip(std::map<std::string, int>{{"a", 1}, {"b", -2}});
    expect_round_trip(std::map<int, std::string>{{-1, "neg"}, {5, "five"}});
    expect_round_trip(std::unordered_map<std::string, std::vector<int>>{{"k", {1, 2}}, {"e", {}}});
    expect_round_trip(std::map<std::uint64_t, bool>{{std::numeric_limits<std::uint64_t>::max(), true}});
}

TEST(RoundTrip, TuplesAndPairs) {
    expect_round_trip(std::tuple<>());
    expect_round_trip(std::tuple<int, std::string, Bytes>(1, "two", Bytes("three")));
    expect_round_trip(std::pair<std::string, double>("pi", 3.14));
    expect_round_trip(std::tuple<std::optional<int>, std::vector<app::Color>>(std::nullopt, {app::Color::red}));
}

TEST(RoundTrip, Structs) {
    expect_round_trip(app::Point{-3, 4});
    expect_round_trip(app::Pair{"answer", std::numeric_limits<std::int64_t>::min()});
    app::Shape shape;
    shape.name = "tri\xe2\x96\xb3";
    shape.points = {{0, 0}, {1, 0}, {0, 1}};
    shape.origin = {5, 6};
    shape.color = app::Color::blue;
    shape.blob = Bytes(std::string("\x00\x10", 2));
    shape.tags = {{"weight", 1.5}, {"none", std::nullopt}};
    expect_round_trip(shape);
    expect_round_trip(app::Shape{});  // all empty / defaults
}

TEST(RoundTrip, DeeplyNestedStandardTypes) {
    using Nested = std::vector<std::map<std::string, std::optional<app::Point>>>;
    const Nested value = {
        {{"a", app::Point{1, 2}}, {"b", std::nullopt}},
        {},
        {{"\xe6\x97\xa5\xe6\x9c\xac", app::Point{-7, 8}}},  // 日本
    };
    expect_round_trip(value);

    using Grid = std::map<int, std::vector<std::tuple<std::string, std::optional<app::Shape>>>>;
    app::Shape small;
    small.points = {{1, 1}};
    const Grid grid = {{1, {{"s", small}, {"n", std::nullopt}}}, {2, {}}};
    expect_round_trip(grid);
}

TEST(RoundTrip, DecodeIntoReusesTarget) {
    std::vector<int> target{9, 9, 9, 9};
    greenrpc::codec::decode_into(encode(std::vector<int>{1, 2}), target);
    EXPECT_EQ(target, (std::vector<int>{1, 2}));
    std::map<std::string, int> map{{"stale", 1}};
    greenrpc::codec::decode_into(encode(std::map<std::string, int>{{"fresh", 2}}), map);
    EXPECT_EQ(map, (std::map<std::string, int>{{"fresh", 2}}));
}

TEST(RoundTrip, IntegerWidensToDouble) {
    EXPECT_EQ(decode<double>(encode(7)), 7.0);
    EXPECT_EQ(decode<double>(encode(-7)), -7.0);
    EXPECT_EQ(decode<float>(encode(2.5)), 2.5f);
    EXPECT_EQ(decode<std::int64_t>(encode(std::uint8_t{200})), 200);
}

}  // namespace
