// MsgpackFramer (arrpc's framing: back-to-back msgpack values, no length prefix): values whole,
// split at every byte, several in one buffer, a moved buffer, limits refused before their bytes
// are awaited, malformed input, and agreement with msgpack-cxx's own unpacker on random values.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "greenrpc/protocol/msgpack_framer.hpp"

namespace greenrpc::protocol {
namespace {

template <class T>
std::string pack(const T& value) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, value);
  return {buf.data(), buf.size()};
}

std::string bin(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) % 256);
  return s;
}

std::string pack_bin(const std::string& bytes) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p(buf);
  p.pack_bin(static_cast<std::uint32_t>(bytes.size()));
  p.pack_bin_body(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
  return {buf.data(), buf.size()};
}

std::string pack_ext(std::int8_t type, const std::string& bytes) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p(buf);
  p.pack_ext(bytes.size(), type);
  p.pack_ext_body(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
  return {buf.data(), buf.size()};
}

// One of each encoding family, sizes around the format boundaries.
std::vector<std::string> sample_values() {
  std::vector<std::string> v;
  for (std::int64_t i : {0ll, 1ll, 127ll, 128ll, 255ll, 256ll, 65535ll, 65536ll, 4294967296ll, -1ll, -32ll, -33ll,
                         -129ll, -32769ll, -2147483649ll})
    v.push_back(pack(i));
  v.push_back(pack(msgpack::type::nil_t()));
  v.push_back(pack(true));
  v.push_back(pack(false));
  v.push_back(pack(1.5f));
  v.push_back(pack(2.25));
  for (std::size_t n : {0u, 1u, 31u, 32u, 255u, 256u, 4096u, 65535u, 65536u}) {
    v.push_back(pack(std::string(n, 'x')));
    v.push_back(pack_bin(bin(n)));
  }
  for (std::size_t n : {1u, 2u, 4u, 8u, 16u, 3u, 255u, 256u, 70000u}) v.push_back(pack_ext(5, bin(n)));
  v.push_back(pack(std::vector<int>{}));
  v.push_back(pack(std::map<std::string, int>{}));
  v.push_back(pack(std::vector<int>(15, 7)));
  v.push_back(pack(std::vector<int>(16, 7)));
  v.push_back(pack(std::vector<int>(70000, 300)));
  v.push_back(pack(std::map<std::string, std::vector<std::string>>{{"a", {"x", "yy"}}, {"b", {}}, {"c", {std::string(300, 'z')}}}));
  v.push_back(pack(std::vector<std::vector<std::vector<int>>>{{{1, 2}, {}}, {{3}}, {}}));
  std::map<std::string, int> big_map;
  for (int i = 0; i < 70000; ++i) big_map[std::to_string(i).append("k")] = i;
  v.push_back(pack(big_map));
  return v;
}

TEST(MsgpackFramer, EveryValueWholeIsOneFrameOfItsExactSize) {
  MsgpackFramer f;
  for (const std::string& value : sample_values()) {
    const ParseResult r = f.next(value);
    ASSERT_EQ(r.status, ParseStatus::complete) << "first byte " << int(static_cast<unsigned char>(value[0]));
    EXPECT_EQ(r.consumed, value.size());
  }
}

TEST(MsgpackFramer, SplitAtEveryByteIsIncompleteUntilTheLastByte) {
  MsgpackFramer f;
  for (const std::string& value : sample_values()) {
    if (value.size() > 5000) continue;  // quadratic in the size; the large ones are below
    for (std::size_t n = 0; n < value.size(); ++n) {
      const ParseResult r = f.next(std::string_view(value).substr(0, n));
      ASSERT_EQ(r.status, ParseStatus::incomplete) << "size " << value.size() << " prefix " << n;
      EXPECT_GT(r.needed, n);
      EXPECT_LE(r.needed, value.size());
    }
    const ParseResult r = f.next(value);
    ASSERT_EQ(r.status, ParseStatus::complete);
    EXPECT_EQ(r.consumed, value.size());
  }
}

TEST(MsgpackFramer, LargeValuesInUnevenPiecesThroughAMovingBuffer) {
  MsgpackFramer f;
  std::mt19937 rng(7);
  for (const std::string& value : sample_values()) {
    std::size_t have = 0;
    std::string buffer;  // reallocated as it grows: the framer keeps offsets, not pointers
    for (;;) {
      have = std::min(value.size(), have + 1 + rng() % 3000);
      buffer = std::string(value.substr(0, have));
      const ParseResult r = f.next(buffer);
      if (have < value.size()) {
        ASSERT_EQ(r.status, ParseStatus::incomplete);
        continue;
      }
      ASSERT_EQ(r.status, ParseStatus::complete);
      EXPECT_EQ(r.consumed, value.size());
      break;
    }
  }
}

TEST(MsgpackFramer, SeveralValuesInOneBufferComeOneAtATimeInOrder) {
  const std::vector<std::string> values = sample_values();
  std::string stream;
  for (const auto& v : values) stream += v;
  stream += pack(std::string("partial")).substr(0, 3);
  MsgpackFramer f;
  std::string_view rest(stream);
  for (const auto& v : values) {
    const ParseResult r = f.next(rest);
    ASSERT_EQ(r.status, ParseStatus::complete);
    ASSERT_EQ(rest.substr(0, r.consumed), v);
    rest.remove_prefix(r.consumed);
  }
  EXPECT_EQ(f.next(rest).status, ParseStatus::incomplete);
}

TEST(MsgpackFramer, AMessageOfExactly4096BytesAndTwoInOneRead) {
  // arrpc's own recvall() stops at a read shorter than 4096 bytes: it loses a message of exactly
  // 4096 bytes and glues two messages that arrive in one read. Framing by value has neither problem.
  const std::string value = pack(std::string(4096 - 3, 'a'));  // str16: 3 header bytes
  ASSERT_EQ(value.size(), 4096u);
  MsgpackFramer f;
  const std::string two = value + pack(std::map<std::string, int>{{"n", 2}});
  ParseResult r = f.next(two);
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.consumed, 4096u);
  r = f.next(std::string_view(two).substr(4096));
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.consumed, two.size() - 4096);
}

TEST(MsgpackFramer, DeclaredLengthsBeyondTheFrameLimitAreRefusedBeforeTheirBytes) {
  MsgpackFrameLimits limits;
  limits.max_frame_bytes = 1000;
  // str32 declaring 1 GB, followed by a few bytes: refused at once, nothing awaited.
  MsgpackFramer f(limits);
  ParseResult r = f.next(std::string("\xdb\x40\x00\x00\x00" "abc", 8));
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, "Protocol error: message size of 1073741829 exceeds limit max_frame_bytes=1000");
  // bin32, ext32 likewise.
  f.reset();
  EXPECT_EQ(f.next(std::string("\xc6\x00\x01\x00\x00", 5)).status, ParseStatus::error);
  f.reset();
  EXPECT_EQ(f.next(std::string("\xc9\x00\x01\x00\x00\x01", 6)).status, ParseStatus::error);
  // array32 of 4 billion elements: each owes a byte.
  f.reset();
  r = f.next(std::string("\xdd\xff\xff\xff\xff", 5));
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, "Protocol error: array length of 4294967295 exceeds limit max_array=1048576");
  limits.max_array = SIZE_MAX;
  MsgpackFramer g(limits);
  r = g.next(std::string("\xdd\xff\xff\xff\xff", 5));
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, "Protocol error: message size of 4294967300 exceeds limit max_frame_bytes=1000");
  // A payload that fits alone but not after the bytes still owed to the elements around it.
  g.reset();
  std::string nested("\x92\xda\x03\xe4", 4);  // [str16 of 996 bytes, <one more element>]: 4 + 996 + 1 > 1000
  EXPECT_EQ(g.next(nested).status, ParseStatus::error);
}

TEST(MsgpackFramer, AValueOfExactlyTheFrameLimitPassesAndOneByteMoreDoesNot) {
  MsgpackFrameLimits limits;
  limits.max_frame_bytes = 300;
  MsgpackFramer f(limits);
  const std::string fits = pack(std::string(300 - 3, 'a'));
  ASSERT_EQ(fits.size(), 300u);
  ParseResult r = f.next(fits);
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.consumed, 300u);
  const std::string over = pack(std::string(300 - 2, 'a'));
  EXPECT_EQ(f.next(over.substr(0, 3)).status, ParseStatus::error);  // refused from its header
  f.reset();
  // Many small elements crossing the limit: refused when the array header says so.
  const std::string many = pack(std::vector<int>(300, 1));
  EXPECT_EQ(f.next(many).status, ParseStatus::error);
  f.reset();
  const std::string exactly = pack(std::vector<int>(297, 1));  // array16: 3 + 297
  ASSERT_EQ(exactly.size(), 300u);
  EXPECT_EQ(f.next(exactly).status, ParseStatus::complete);
}

TEST(MsgpackFramer, NestingAndContainerLimits) {
  MsgpackFrameLimits limits;
  limits.max_depth = 3;
  limits.max_map = 2;
  limits.max_array = 4;
  MsgpackFramer f(limits);
  EXPECT_EQ(f.next(std::string("\x91\x91\x91\x01", 4)).status, ParseStatus::complete);
  const ParseResult deep = f.next(std::string("\x91\x91\x91\x91\x01", 5));
  ASSERT_EQ(deep.status, ParseStatus::error);
  EXPECT_EQ(deep.error, "Protocol error: nesting depth of 4 exceeds limit max_depth=3");
  f.reset();
  // Empty containers do not stay open, so they do not count as nesting below them.
  EXPECT_EQ(f.next(std::string("\x93\x90\x90\x91\x90", 5)).status, ParseStatus::complete);
  const ParseResult wide = f.next(std::string("\x83\x01\x01\x02\x02\x03\x03", 7));
  ASSERT_EQ(wide.status, ParseStatus::error);
  EXPECT_EQ(wide.error, "Protocol error: map length of 3 exceeds limit max_map=2");
  f.reset();
  EXPECT_EQ(f.next(std::string("\x95\x01\x02\x03\x04\x05", 6)).status, ParseStatus::error);
}

TEST(MsgpackFramer, TheNeverUsedTypeByteIsAnErrorWhereverItIs) {
  MsgpackFramer f;
  ParseResult r = f.next(std::string("\xc1", 1));
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, "Protocol error: invalid msgpack: byte 0xc1 at offset 0");
  f.reset();
  r = f.next(std::string("\x82\xa1k\x01\xa1j\xc1", 7));
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, "Protocol error: invalid msgpack: byte 0xc1 at offset 6");
  // Reset, the framer serves the next value.
  f.reset();
  EXPECT_EQ(f.next(pack(5)).status, ParseStatus::complete);
}

TEST(MsgpackFramer, MemoryIsOneCounterPerOpenContainer) {
  MsgpackFramer f;
  std::string deep(64, '\x91');
  deep += '\x01';
  ASSERT_EQ(f.next(deep).status, ParseStatus::complete);
  EXPECT_LE(f.memory_bytes(), 64 * sizeof(std::uint64_t) * 2);
}

// A random msgpack value (bounded size and depth) as bytes.
void random_value(std::mt19937& rng, msgpack::packer<msgpack::sbuffer>& p, int depth) {
  const unsigned kind = rng() % (depth > 4 ? 6 : 8);
  switch (kind) {
    case 0: p.pack(static_cast<std::int64_t>(rng()) - (1ll << 31)); break;
    case 1: p.pack(static_cast<std::uint64_t>(rng()) << (rng() % 33)); break;
    case 2: p.pack(std::string(rng() % 300, 's')); break;
    case 3: {
      const std::string b = bin(rng() % 300);
      p.pack_bin(static_cast<std::uint32_t>(b.size()));
      p.pack_bin_body(b.data(), static_cast<std::uint32_t>(b.size()));
      break;
    }
    case 4: p.pack_nil(); break;
    case 5: p.pack(0.5 * rng()); break;
    case 6: {
      const unsigned n = rng() % 20;
      p.pack_array(n);
      for (unsigned i = 0; i < n; ++i) random_value(rng, p, depth + 1);
      break;
    }
    default: {
      const unsigned n = rng() % 10;
      p.pack_map(n);
      for (unsigned i = 0; i < 2 * n; ++i) random_value(rng, p, depth + 1);
      break;
    }
  }
}

TEST(MsgpackFramer, AgreesWithMsgpackCxxOnRandomStreamsReadInRandomPieces) {
  std::mt19937 rng(2024);
  for (int round = 0; round < 200; ++round) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> p(buf);
    const int values = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < values; ++i) random_value(rng, p, 0);
    const std::string stream(buf.data(), buf.size());
    // msgpack-cxx's offsets of the values.
    std::vector<std::size_t> ends;
    std::size_t off = 0;
    while (off < stream.size()) {
      msgpack::object_handle h = msgpack::unpack(stream.data(), stream.size(), off);
      ends.push_back(off);
    }
    // The framer, reading the stream in random pieces as a connection would.
    MsgpackFramer f;
    std::size_t start = 0, have = 0;
    std::vector<std::size_t> got;
    while (start < stream.size()) {
      const ParseResult r = f.next(std::string_view(stream).substr(start, have - start));
      ASSERT_NE(r.status, ParseStatus::error) << r.error;
      if (r.status == ParseStatus::complete) {
        start += r.consumed;
        got.push_back(start);
        continue;
      }
      ASSERT_LT(have, stream.size());
      have = std::min(stream.size(), have + 1 + rng() % 200);
    }
    EXPECT_EQ(got, ends) << "round " << round;
  }
}

}  // namespace
}  // namespace greenrpc::protocol
