// Memory bounds of both parsers, observed by counting heap allocations: declared sizes must never
// drive allocation, payloads are copied once, and steady-state request parsing allocates nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "greenrpc/protocol/reply_parser.hpp"
#include "greenrpc/protocol/request_parser.hpp"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};
std::atomic<std::size_t> g_bytes{0};

}  // namespace

// Replaced global allocation functions (this test executable only). GCC cannot see that the
// replaced new and delete pair malloc with free, hence the pragma.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    g_bytes.fetch_add(size, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace greenrpc::protocol {
namespace {

using namespace std::string_literals;

// Counts the allocations made while it is alive.
class AllocationCounter {
 public:
  AllocationCounter() {
    g_allocations = 0;
    g_bytes = 0;
    g_counting = true;
  }
  ~AllocationCounter() { g_counting = false; }
  std::size_t allocations() const { return g_allocations; }
  std::size_t bytes() const { return g_bytes; }
};

ProtocolLimits huge_limits() {
  ProtocolLimits l;
  l.max_bulk_bytes = 4'000'000'000;
  l.max_array_elements = 4'000'000'000;
  return l;
}

TEST(AllocationCounter, SeesAllocations) {
  AllocationCounter counter;
  auto* p = new std::string(1000, 'x');
  EXPECT_GE(counter.bytes(), 1000u);
  delete p;
}

TEST(RequestParserMemory, HugeDeclaredCountAndLengthAllocateNothing) {
  RequestParser parser(huge_limits());
  const std::string head = "*1000000000\r\n$1000000000\r\n";
  std::string buffer = "*1000000000\r\n";
  buffer.reserve(head.size() + 70'000);
  const AllocationCounter counter;
  ParseResult r = parser.parse(buffer);
  EXPECT_EQ(r.status, ParseStatus::incomplete);
  buffer = head;
  r = parser.parse(buffer);
  EXPECT_EQ(r.status, ParseStatus::incomplete);
  EXPECT_EQ(r.needed, head.size() + 1'000'000'000u + 2);
  for (int i = 0; i < 1000; ++i) {  // payload trickles in
    buffer.append(64, 'p');
    r = parser.parse(buffer);
    ASSERT_EQ(r.status, ParseStatus::incomplete);
  }
  EXPECT_EQ(counter.allocations(), 0u);
}

TEST(RequestParserMemory, HugeDeclaredSizesAreErrorsUnderSmallLimits) {
  ProtocolLimits limits;
  limits.max_bulk_bytes = 1024;
  limits.max_array_elements = 16;
  RequestParser parser(limits);
  const AllocationCounter counter;
  ParseResult r = parser.parse("*1000000000\r\n");
  EXPECT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, "Protocol error: invalid multibulk length");
  r = parser.parse("*1\r\n$1000000000\r\n");
  EXPECT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, "Protocol error: invalid bulk length");
  // Only the two error messages were allocated.
  EXPECT_LT(counter.bytes(), 256u);
}

TEST(RequestParserMemory, DefaultLimitsRejectHugeDeclarations) {
  RequestParser parser;
  EXPECT_EQ(parser.parse("*1000000000\r\n").status, ParseStatus::error);
  EXPECT_EQ(parser.parse("*1\r\n$1000000000\r\n").status, ParseStatus::error);
}

TEST(RequestParserMemory, SteadyStateAllocatesNothing) {
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    batch += "*3\r\n$3\r\nSET\r\n$4\r\nkey"s + std::to_string(i % 10) + "\r\n$5\r\nvalue\r\n";
    batch += "*0\r\n";
    batch += "GET \"quoted key\" plain\r\n";
    batch += "*1\r\n$4\r\nPING\r\n";
  }
  RequestParser parser;
  const auto run = [&] {
    std::size_t offset = 0;
    std::size_t frames = 0;
    while (offset < batch.size()) {
      const ParseResult r = parser.parse(std::string_view(batch).substr(offset));
      if (r.status != ParseStatus::complete) return std::size_t{0};
      offset += r.consumed;
      ++frames;
    }
    return frames;
  };
  ASSERT_EQ(run(), 200u);  // warm-up sizes the reused vectors and arena
  const AllocationCounter counter;
  const std::size_t frames = run();
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_EQ(frames, 200u);
}

TEST(ReplyParserMemory, HugeDeclaredSizesAllocateNothing) {
  ReplyParser parser(huge_limits());
  RespValue out;
  const AllocationCounter counter;
  ParseResult r = parser.parse("$1000000000\r\n", out);
  EXPECT_EQ(r.status, ParseStatus::incomplete);
  EXPECT_EQ(r.needed, 13u + 1'000'000'000u + 2);
  parser.reset();
  r = parser.parse("*1000000000\r\n*1000000000\r\n:1\r\n", out);
  EXPECT_EQ(r.status, ParseStatus::incomplete);
  EXPECT_EQ(counter.allocations(), 0u);
}

TEST(ReplyParserMemory, HugeDeclaredSizesAreErrorsUnderSmallLimits) {
  ProtocolLimits limits;
  limits.max_bulk_bytes = 1024;
  limits.max_array_elements = 16;
  ReplyParser parser(limits);
  RespValue out;
  EXPECT_EQ(parser.parse("$1000000000\r\n", out).error, "Protocol error: invalid bulk length");
  EXPECT_EQ(parser.parse("*1000000000\r\n", out).error, "Protocol error: invalid multibulk length");
}

TEST(ReplyParserMemory, BigBulkInSmallChunksIsCopiedOnce) {
  constexpr std::size_t kSize = 1 << 20;
  const std::string frame = "$"s + std::to_string(kSize) + "\r\n"s + std::string(kSize, 'b') + "\r\n";
  ReplyParser parser;
  RespValue out;
  std::string buffer;
  buffer.reserve(frame.size());
  std::size_t incomplete_calls = 0;
  ParseResult r{ParseStatus::incomplete};
  const AllocationCounter counter;
  for (std::size_t sent = 0; sent < frame.size(); sent += 4096) {
    buffer.append(frame, sent, 4096);
    r = parser.parse(buffer, out);
    if (r.status != ParseStatus::incomplete) break;
    ++incomplete_calls;
    ASSERT_EQ(counter.allocations(), 0u) << "allocation before the bulk was complete";
  }
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_GT(incomplete_calls, 200u);
  EXPECT_EQ(out.str.size(), kSize);
  EXPECT_EQ(counter.allocations(), 1u);  // the payload copy
  EXPECT_LT(counter.bytes(), kSize + 64);
}

}  // namespace
}  // namespace greenrpc::protocol
