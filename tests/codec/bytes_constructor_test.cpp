// Bytes from an iterator pair: any input range of byte-like values, contiguous or not.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <list>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

namespace {

using greenrpc::Bytes;

// Only ranges of byte-like values: an int or a std::string element is not one byte.
static_assert(std::is_constructible_v<Bytes, std::vector<std::uint8_t>::iterator, std::vector<std::uint8_t>::iterator>);
static_assert(std::is_constructible_v<Bytes, const std::byte*, const std::byte*>);
static_assert(std::is_constructible_v<Bytes, std::list<char>::const_iterator, std::list<char>::const_iterator>);
static_assert(std::is_constructible_v<Bytes, std::istreambuf_iterator<char>, std::istreambuf_iterator<char>>);
static_assert(!std::is_constructible_v<Bytes, std::vector<int>::iterator, std::vector<int>::iterator>);
static_assert(!std::is_constructible_v<Bytes, std::vector<std::string>::iterator, std::vector<std::string>::iterator>);
static_assert(!std::is_constructible_v<Bytes, std::vector<char>::iterator, std::list<char>::iterator>);

TEST(BytesFromIterators, ContiguousUnsignedBytesIncludingZeroAndHighValues) {
    std::vector<std::uint8_t> raw{0x00, 0x01, 0x7f, 0x80, 0xff};
    Bytes b(raw.begin(), raw.end());
    ASSERT_EQ(b.size(), raw.size());
    EXPECT_EQ(b.view(), std::string_view("\x00\x01\x7f\x80\xff", 5));
}

TEST(BytesFromIterators, StdBytePointers) {
    std::array<std::byte, 3> raw{std::byte{0xde}, std::byte{0xad}, std::byte{0x00}};
    Bytes b(raw.data(), raw.data() + raw.size());
    EXPECT_EQ(b, std::string_view("\xde\xad\x00", 3));
}

TEST(BytesFromIterators, NonContiguousForwardRange) {
    std::list<char> raw{'a', '\0', 'z'};
    EXPECT_EQ(Bytes(raw.begin(), raw.end()), std::string_view("a\0z", 3));
    std::deque<unsigned char> empty;
    EXPECT_TRUE(Bytes(empty.begin(), empty.end()).empty());
}

TEST(BytesFromIterators, SinglePassInputRange) {
    std::istringstream in(std::string("bin\0ary", 7));
    Bytes b(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
    EXPECT_EQ(b, std::string_view("bin\0ary", 7));
}

TEST(BytesFromIterators, SubrangeRoundTripsAsBin) {
    std::vector<std::uint8_t> raw{1, 2, 3, 4, 5};
    Bytes b(raw.begin() + 1, raw.end() - 1);
    std::string wire;
    greenrpc::codec::encode(wire, b);
    EXPECT_EQ(greenrpc::codec::decode<Bytes>(wire), b);
    EXPECT_EQ(b.view(), std::string_view("\x02\x03\x04", 3));
}

TEST(BytesFromIterators, PointerAndSizeStillMeansPointerAndSize) {
    const char* text = "hello";
    EXPECT_EQ(Bytes(text, 3), std::string_view("hel"));  // (const void*, size), not an iterator pair
    EXPECT_EQ(Bytes(text, text + 4), std::string_view("hell"));
}

}  // namespace
