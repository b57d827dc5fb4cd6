// ReadBuffer: growth only as bytes arrive, compaction, the limit, shrinking when idle, and the
// mapped path from kMappedFrom on (growth by mremap must keep every byte, in order).
#include "greenrpc/protocol/read_buffer.hpp"

#include <gtest/gtest.h>

#include <string>

using greenrpc::protocol::ReadBuffer;

namespace {

// Appends `bytes` through prepare/commit, `chunk` at a time, as reads would.
void feed(ReadBuffer& b, const std::string& bytes, std::size_t chunk, std::size_t limit = SIZE_MAX) {
  for (std::size_t at = 0; at < bytes.size();) {
    auto space = b.prepare(4096, limit);
    ASSERT_FALSE(space.empty()) << "at " << at;
    const std::size_t n = std::min({chunk, space.size(), bytes.size() - at});
    std::copy(bytes.data() + at, bytes.data() + at + n, space.data());
    b.commit(n);
    at += n;
  }
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

}  // namespace

TEST(ReadBuffer, StartsSmallAndGrowsOnlyWithTheBytes) {
  ReadBuffer b;
  EXPECT_EQ(b.capacity(), 0u);
  feed(b, "PING\r\n", 6);
  EXPECT_EQ(b.capacity(), ReadBuffer::kInitial);
  EXPECT_EQ(b.data(), "PING\r\n");
}

// Breaks when: mremap-based growth loses or reorders bytes, compaction before a remap moves the
// wrong range, or the heap-to-mapping switch copies from the wrong offset.
TEST(ReadBuffer, LargeBuffersAreMappedAndKeepEveryByteAcrossGrowthAndCompaction) {
  ReadBuffer b;
  const std::string first = pattern(3 * 1024 * 1024 + 123);
  feed(b, first.substr(0, 1000), 333);
  b.consume(10);  // a consumed prefix: the next growth must keep only the rest
  feed(b, first.substr(1000), 65536);
  EXPECT_GE(b.capacity(), ReadBuffer::kMappedFrom);
  ASSERT_EQ(b.size(), first.size() - 10);
  EXPECT_TRUE(b.data() == std::string_view(first).substr(10)) << "bytes changed across growth";
  b.consume(2 * 1024 * 1024);  // more than half consumed: the next growth compacts, then remaps
  const std::string more = pattern(4 * 1024 * 1024);
  feed(b, more, 100000);
  const std::string expected = first.substr(10 + 2 * 1024 * 1024) + more;
  ASSERT_EQ(b.size(), expected.size());
  EXPECT_TRUE(b.data() == expected) << "bytes changed across a compacting remap";
  // Moved, and given back when idle.
  ReadBuffer moved = std::move(b);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(moved.data() == expected);
  moved.consume(moved.size());
  moved.shrink_if_idle();
  EXPECT_EQ(moved.capacity(), 0u);
}

TEST(ReadBuffer, NeverGrowsPastTheLimit) {
  ReadBuffer b;
  constexpr std::size_t kLimit = 300 * 1024;  // not a power of two, mapped
  std::size_t total = 0;
  for (;;) {
    auto space = b.prepare(4096, kLimit);
    if (space.empty()) break;
    b.commit(std::min<std::size_t>(space.size(), 50000));
    total = b.size();
    ASSERT_LE(b.capacity(), kLimit);
  }
  EXPECT_GT(total, kLimit - 4096);
  EXPECT_LE(total, kLimit);
}
