// Wire compatibility: hand-written msgpack bytes (per the spec) decode as
// expected, and encode() produces the exact expected bytes.

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

namespace wire {

struct Point {
    int x = 0;
    int y = 0;
    MSGPACK_DEFINE_MAP(x, y);
};

enum class Level : std::int16_t { low = -1, high = 300 };

}  // namespace wire

namespace {

using greenrpc::Bytes;
using greenrpc::codec::decode;
using greenrpc::codec::encode;

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

TEST(WireDecode, Scalars) {
    EXPECT_EQ(decode<int>(bytes({0x01})), 1);
    EXPECT_EQ(decode<int>(bytes({0xff})), -1);                    // negative fixint
    EXPECT_EQ(decode<int>(bytes({0xd0, 0x80})), -128);            // int8
    EXPECT_EQ(decode<int>(bytes({0xcd, 0x01, 0x00})), 256);       // uint16
    EXPECT_EQ(decode<std::uint64_t>(bytes({0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})),
              std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(decode<std::int64_t>(bytes({0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0})),
              std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(decode<bool>(bytes({0xc3})), true);
    EXPECT_EQ(decode<bool>(bytes({0xc2})), false);
    EXPECT_EQ(decode<double>(bytes({0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0})), 1.5);
    EXPECT_EQ(decode<double>(bytes({0xca, 0x3f, 0xc0, 0, 0})), 1.5);  // float32 into double
    EXPECT_EQ(decode<std::optional<int>>(bytes({0xc0})), std::nullopt);
}

TEST(WireDecode, StringsAndBinary) {
    EXPECT_EQ(decode<std::string>(bytes({0xa3, 'a', 'b', 'c'})), "abc");
    EXPECT_EQ(decode<std::string>(bytes({0xd9, 0x01, 'z'})), "z");             // str8
    EXPECT_EQ(decode<Bytes>(bytes({0xc4, 0x03, 'a', 'b', 'c'})), Bytes("abc"));  // bin8
    EXPECT_EQ(decode<Bytes>(bytes({0xa2, 'h', 'i'})), Bytes("hi"));             // STR accepted
    EXPECT_EQ(decode<std::string>(bytes({0xc4, 0x02, 'o', 'k'})), "ok");        // BIN accepted
    EXPECT_EQ(decode<std::vector<unsigned char>>(bytes({0xc4, 0x02, 0x00, 0xff})),
              (std::vector<unsigned char>{0x00, 0xff}));
}

TEST(WireDecode, Containers) {
    EXPECT_EQ(decode<std::vector<int>>(bytes({0x93, 0x01, 0x02, 0x03})), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(decode<std::vector<int>>(bytes({0xdc, 0x00, 0x01, 0x07})), (std::vector<int>{7}));  // array16
    EXPECT_EQ(decode<std::vector<int>>(bytes({0x90})), std::vector<int>{});
    EXPECT_EQ((decode<std::map<std::string, int>>(bytes({0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02}))),
              (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
    EXPECT_EQ((decode<std::tuple<int, std::string>>(bytes({0x92, 0x05, 0xa1, 'x'}))),
              (std::tuple<int, std::string>{5, "x"}));
    EXPECT_EQ(decode<wire::Level>(bytes({0xcd, 0x01, 0x2c})), wire::Level::high);

    // Struct from a map with keys in any order, with an unknown key ignored.
    const auto point = decode<wire::Point>(bytes({0x83, 0xa1, 'y', 0x02, 0xa5, 'e', 'x', 't', 'r', 'a', 0xc0, 0xa1, 'x', 0x01}));
    EXPECT_EQ(point.x, 1);
    EXPECT_EQ(point.y, 2);
}

TEST(WireEncode, ExactBytes) {
    EXPECT_EQ(encode(1), bytes({0x01}));
    EXPECT_EQ(encode(-1), bytes({0xff}));
    EXPECT_EQ(encode(200), bytes({0xcc, 0xc8}));
    EXPECT_EQ(encode(-200), bytes({0xd1, 0xff, 0x38}));
    EXPECT_EQ(encode(std::string("a")), bytes({0xa1, 0x61}));
    EXPECT_EQ(encode(true), bytes({0xc3}));
    EXPECT_EQ(encode(1.5), bytes({0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(encode(1.5f), bytes({0xca, 0x3f, 0xc0, 0, 0}));
    EXPECT_EQ(encode(Bytes("abc")), bytes({0xc4, 0x03, 'a', 'b', 'c'}));
    EXPECT_EQ(encode(std::optional<int>()), bytes({0xc0}));
    EXPECT_EQ(encode(std::vector<int>{1, 2, 3}), bytes({0x93, 0x01, 0x02, 0x03}));
    EXPECT_EQ(encode(std::map<std::string, int>{{"a", 1}}), bytes({0x81, 0xa1, 'a', 0x01}));
    EXPECT_EQ(encode(wire::Level::low), bytes({0xff}));
    EXPECT_EQ(encode(wire::Level::high), bytes({0xcd, 0x01, 0x2c}));
    EXPECT_EQ(encode(wire::Point{1, 2}), bytes({0x82, 0xa1, 'x', 0x01, 0xa1, 'y', 0x02}));
}

TEST(WireEncode, WholeNumberFloatsStayFloats) {
    // msgpack-cxx 4.1 alone would write 0x02 / 0x00 / 0xff here.
    EXPECT_EQ(encode(2.0), bytes({0xcb, 0x40, 0x00, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(encode(0.0), bytes({0xcb, 0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(encode(-1.0f), bytes({0xca, 0xbf, 0x80, 0, 0}));
    EXPECT_EQ(encode(std::vector<double>{3.0}), bytes({0x91, 0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0}));
}

TEST(WireEncode, NilAndAppending) {
    std::string out = "prefix";
    greenrpc::codec::encode_nil(out);
    greenrpc::codec::encode(out, 5);
    EXPECT_EQ(out, "prefix" + bytes({0xc0, 0x05}));
}

TEST(WireEncode, EncodeEachProducesOneValuePerArgument) {
    std::vector<std::string> args{"existing"};
    greenrpc::codec::encode_each(args, 1, std::string("x"), Bytes("b"), wire::Point{3, 4});
    ASSERT_EQ(args.size(), 5u);
    EXPECT_EQ(args[0], "existing");
    EXPECT_EQ(args[1], bytes({0x01}));
    EXPECT_EQ(args[2], bytes({0xa1, 'x'}));
    EXPECT_EQ(args[3], bytes({0xc4, 0x01, 'b'}));
    EXPECT_EQ(decode<wire::Point>(args[4]).y, 4);
}

TEST(UnpackValue, ObjectHandleReferencesInput) {
    const std::string input = bytes({0x92, 0xa2, 'h', 'i', 0xc4, 0x01, 'z'});
    msgpack::object_handle handle = greenrpc::codec::unpack_value(input);
    const msgpack::object& value = handle.get();
    ASSERT_EQ(value.type, msgpack::type::ARRAY);
    ASSERT_EQ(value.via.array.size, 2u);
    // Strings point into the input buffer (no copy).
    EXPECT_EQ(value.via.array.ptr[0].via.str.ptr, input.data() + 2);
    EXPECT_EQ(value.via.array.ptr[1].via.bin.ptr, input.data() + 6);
}

}  // namespace
