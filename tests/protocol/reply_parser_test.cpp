// ReplyParser: every RESP2 reply type, nesting, null forms, splitting, errors and limits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "greenrpc/protocol/reply_parser.hpp"

namespace greenrpc::protocol {
namespace {

using namespace std::string_literals;
using Type = RespValue::Type;

RespValue simple(std::string s) { return {Type::simple_string, std::move(s), 0, {}}; }
RespValue error(std::string s) { return {Type::error, std::move(s), 0, {}}; }
RespValue integer(std::int64_t v) { return {Type::integer, {}, v, {}}; }
RespValue bulk(std::string s) { return {Type::bulk_string, std::move(s), 0, {}}; }
RespValue null() { return {}; }
RespValue array(std::vector<RespValue> elements) { return {Type::array, {}, 0, std::move(elements)}; }

std::string nested(std::size_t depth, const std::string& leaf) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += "*1\r\n";
  return s + leaf;
}

RespValue nested_value(std::size_t depth, RespValue leaf) {
  for (std::size_t i = 0; i < depth; ++i) leaf = array({std::move(leaf)});
  return leaf;
}

struct ValidReply {
  std::string name;
  std::string bytes;
  RespValue value;
};

std::vector<ValidReply> valid_replies() {
  std::string big(5000, 'z');
  big[10] = '\r';
  big[11] = '\n';
  return {
      {"simple", "+OK\r\n", simple("OK")},
      {"simple_empty", "+\r\n", simple("")},
      {"error", "-ERR unknown command 'FOO'\r\n", error("ERR unknown command 'FOO'")},
      {"integer_zero", ":0\r\n", integer(0)},
      {"integer_negative", ":-42\r\n", integer(-42)},
      {"integer_max", ":9223372036854775807\r\n", integer(INT64_MAX)},
      {"integer_min", ":-9223372036854775808\r\n", integer(INT64_MIN)},
      {"bulk", "$5\r\nhello\r\n", bulk("hello")},
      {"bulk_empty", "$0\r\n\r\n", bulk("")},
      {"bulk_binary", "$5\r\n\r\n\0x\n\r\n"s, bulk("\r\n\0x\n"s)},
      {"bulk_big", "$5000\r\n"s + big + "\r\n", bulk(big)},
      {"bulk_null", "$-1\r\n", null()},
      {"array_null", "*-1\r\n", null()},
      {"array_empty", "*0\r\n", array({})},
      {"array_mixed", "*5\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n-ERR x\r\n$-1\r\n",
       array({integer(1), bulk("foo"), simple("bar"), error("ERR x"), null()})},
      {"array_nested", "*3\r\n*2\r\n:1\r\n:2\r\n*0\r\n*1\r\n*-1\r\n",
       array({array({integer(1), integer(2)}), array({}), array({null()})})},
      {"array_nested_first", "*2\r\n*1\r\n:1\r\n:2\r\n", array({array({integer(1)}), integer(2)})},
      {"array_nested_last", "*2\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n+b\r\n",
       array({integer(1), array({bulk("a"), array({simple("b")})})})},
      {"depth_16", nested(16, ":7\r\n"), nested_value(16, integer(7))},
      {"depth_16_empty_leaf", nested(15, "*0\r\n"), nested_value(15, array({}))},
  };
}

class ValidReplyTest : public ::testing::TestWithParam<ValidReply> {};

TEST_P(ValidReplyTest, ParsesWhole) {
  const ValidReply& r = GetParam();
  ReplyParser parser;
  RespValue out;
  const ParseResult result = parser.parse(r.bytes + "+next\r\n", out);
  ASSERT_EQ(result.status, ParseStatus::complete) << result.error;
  EXPECT_EQ(result.consumed, r.bytes.size());
  EXPECT_EQ(out, r.value);
}

TEST_P(ValidReplyTest, EveryPrefixIsIncompleteThenWholeCompletes) {
  const ValidReply& r = GetParam();
  for (std::size_t k = 0; k < r.bytes.size(); ++k) {
    SCOPED_TRACE("prefix length "s + std::to_string(k));
    ReplyParser parser;
    RespValue out;
    const std::string prefix = r.bytes.substr(0, k);
    const ParseResult partial = parser.parse(prefix, out);
    ASSERT_EQ(partial.status, ParseStatus::incomplete) << partial.error;
    if (partial.needed != 0) {
      EXPECT_GT(partial.needed, k);
      EXPECT_LE(partial.needed, r.bytes.size());
    }
    const std::string whole = r.bytes;
    const ParseResult result = parser.parse(whole, out);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.error;
    EXPECT_EQ(result.consumed, r.bytes.size());
    EXPECT_EQ(out, r.value);
  }
}

TEST_P(ValidReplyTest, ByteByByteWithOneParser) {
  const ValidReply& r = GetParam();
  ReplyParser parser;
  RespValue out;
  for (std::size_t k = 1; k < r.bytes.size(); ++k) {
    const std::string prefix = std::string(k % 3, '#') + r.bytes.substr(0, k);
    ASSERT_EQ(parser.parse(std::string_view(prefix).substr(k % 3), out).status, ParseStatus::incomplete)
        << "prefix length " << k;
  }
  const ParseResult result = parser.parse(r.bytes, out);
  ASSERT_EQ(result.status, ParseStatus::complete) << result.error;
  EXPECT_EQ(out, r.value);
}

INSTANTIATE_TEST_SUITE_P(Replies, ValidReplyTest, ::testing::ValuesIn(valid_replies()),
                         [](const auto& p) { return p.param.name; });

TEST(ReplyParserPipeline, ChunkedArrivalWithCompaction) {
  const auto replies = valid_replies();
  std::string stream;
  for (const auto& r : replies) stream += r.bytes;
  for (std::size_t chunk : {1u, 2u, 5u, 64u, 4096u}) {
    SCOPED_TRACE("chunk "s + std::to_string(chunk));
    ReplyParser parser;
    std::string buffer;
    std::vector<RespValue> got;
    for (std::size_t sent = 0; sent < stream.size(); sent += chunk) {
      buffer.append(stream, sent, chunk);
      for (;;) {
        RespValue out;
        const ParseResult r = parser.parse(buffer, out);
        ASSERT_NE(r.status, ParseStatus::error) << r.error;
        if (r.status == ParseStatus::incomplete) break;
        got.push_back(std::move(out));
        buffer.erase(0, r.consumed);
      }
    }
    EXPECT_TRUE(buffer.empty());
    ASSERT_EQ(got.size(), replies.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], replies[i].value) << replies[i].name;
  }
}

TEST(ReplyParserOutput, OverwritesPreviousValue) {
  ReplyParser parser;
  RespValue out;
  ASSERT_EQ(parser.parse("*2\r\n$1\r\na\r\n:5\r\n", out).status, ParseStatus::complete);
  ASSERT_EQ(out.type, Type::array);
  ASSERT_EQ(parser.parse("+OK\r\n", out).status, ParseStatus::complete);
  EXPECT_EQ(out, simple("OK"));
  ASSERT_EQ(parser.parse(":3\r\n", out).status, ParseStatus::complete);
  EXPECT_EQ(out, integer(3));
  ASSERT_EQ(parser.parse("$-1\r\n", out).status, ParseStatus::complete);
  EXPECT_EQ(out, null());
}

TEST(ReplyParserNeeded, ReportsTheEndOfTheAwaitedPayload) {
  ReplyParser parser;
  RespValue out;
  const ParseResult r = parser.parse("*2\r\n:1\r\n$10\r\nabc", out);
  ASSERT_EQ(r.status, ParseStatus::incomplete);
  EXPECT_EQ(r.needed, std::string("*2\r\n:1\r\n$10\r\n").size() + 12);
}

struct BadReply {
  std::string name;
  std::string bytes;
  std::string message;
  ProtocolLimits limits = {};
};

ProtocolLimits small_limits() {
  ProtocolLimits l;
  l.max_bulk_bytes = 4;
  l.max_array_elements = 2;
  l.max_reply_depth = 2;
  return l;
}

std::vector<BadReply> bad_replies() {
  const std::string integer_msg = "Protocol error: invalid integer reply";
  const std::string bulk_msg = "Protocol error: invalid bulk length";
  const std::string multibulk_msg = "Protocol error: invalid multibulk length";
  const std::string crlf_msg = "Protocol error: missing CRLF after bulk payload";
  const std::string line_msg = "Protocol error: reply line not terminated by CRLF";
  const std::string deep_msg = "Protocol error: reply nesting too deep";
  return {
      {"unknown_type", "!x\r\n", "Protocol error: unexpected reply type byte '!'"},
      {"resp3_map", "%1\r\n+a\r\n+b\r\n", "Protocol error: unexpected reply type byte '%'"},
      {"unknown_type_inside_array", "*2\r\n:1\r\n?\r\n", "Protocol error: unexpected reply type byte '?'"},
      {"integer_letters", ":abc\r\n", integer_msg},
      {"integer_empty", ":\r\n", integer_msg},
      {"integer_leading_zero", ":01\r\n", integer_msg},
      {"integer_overflow", ":99999999999999999999999\r\n", integer_msg},
      {"integer_line_too_long", ":"s + std::string(40, '9'), integer_msg},
      {"bulk_minus_two", "$-2\r\n", bulk_msg},
      {"bulk_letters", "$abc\r\n", bulk_msg},
      {"bulk_overflow", "$99999999999999999999999\r\n", bulk_msg},
      {"bulk_over_limit", "$5\r\nhello\r\n", bulk_msg, small_limits()},
      {"bulk_no_crlf", "$3\r\nfooXY", crlf_msg},
      {"bulk_cr_junk", "$3\r\nfoo\rX", crlf_msg},
      {"array_minus_two", "*-2\r\n", multibulk_msg},
      {"array_letters", "*x\r\n", multibulk_msg},
      {"array_over_limit", "*3\r\n:1\r\n:2\r\n:3\r\n", multibulk_msg, small_limits()},
      {"simple_lf_only", "+OK\n", line_msg},
      {"integer_lf_only", ":1\n", line_msg},
      {"nested_lf_only", "*1\r\n-ERR\n", line_msg},
      {"depth_over_small_limit", "*1\r\n*1\r\n*1\r\n:1\r\n", deep_msg, small_limits()},
      {"empty_array_over_small_limit", "*1\r\n*1\r\n*0\r\n", deep_msg, small_limits()},
      {"depth_17", nested(17, ":1\r\n"), deep_msg},
  };
}

class BadReplyTest : public ::testing::TestWithParam<BadReply> {};

TEST_P(BadReplyTest, WholeIsErrorWithMessage) {
  const BadReply& b = GetParam();
  ReplyParser parser(b.limits);
  RespValue out;
  const ParseResult r = parser.parse(b.bytes, out);
  EXPECT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, b.message);
}

TEST_P(BadReplyTest, ByteByByteReachesTheErrorThenRecovers) {
  const BadReply& b = GetParam();
  ReplyParser parser(b.limits);
  RespValue out;
  ParseResult r{ParseStatus::incomplete};
  for (std::size_t k = 0; k <= b.bytes.size() && r.status == ParseStatus::incomplete; ++k) {
    const std::string prefix = b.bytes.substr(0, k);
    r = parser.parse(prefix, out);
  }
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, b.message);
  parser.reset();
  ASSERT_EQ(parser.parse("+OK\r\n", out).status, ParseStatus::complete);
  EXPECT_EQ(out, simple("OK"));
}

INSTANTIATE_TEST_SUITE_P(Replies, BadReplyTest, ::testing::ValuesIn(bad_replies()),
                         [](const auto& p) { return p.param.name; });

TEST(ReplyParserLimits, DepthAtTheLimitIsAccepted) {
  ReplyParser parser(small_limits());
  RespValue out;
  ASSERT_EQ(parser.parse("*1\r\n*2\r\n:1\r\n$4\r\nabcd\r\n", out).status, ParseStatus::complete);
  EXPECT_EQ(out, array({array({integer(1), bulk("abcd")})}));
}

// Found by fuzz/reply_parser_fuzzer (whole vs. in pieces): a line whose body is exactly
// max_bulk_bytes, read up to its '\r' before the '\n' arrives, must not be "too big".
TEST(ReplyParserLimits, LineAtTheLimitSplitBeforeItsLf) {
  for (const char type : {'+', '-'}) {
    const std::string line = std::string(1, type) + std::string(4, 'a') + "\r\n";
    ReplyParser parser(small_limits());
    RespValue out;
    ASSERT_EQ(parser.parse(line.substr(0, line.size() - 1), out).status, ParseStatus::incomplete);
    ASSERT_EQ(parser.parse(line, out).status, ParseStatus::complete);
    EXPECT_EQ(out, type == '+' ? simple("aaaa") : error("aaaa"));
    const std::string over = std::string(1, type) + std::string(5, 'a') + "\r";
    ReplyParser strict(small_limits());
    EXPECT_EQ(strict.parse(over, out).status, ParseStatus::error);
  }
}

TEST(ReplyParserScale, LargeArrayInSmallChunks) {
  constexpr std::size_t kCount = 100'000;
  std::string frame = "*"s + std::to_string(kCount) + "\r\n";
  for (std::size_t i = 0; i < kCount; ++i) frame.append(":").append(std::to_string(i)).append("\r\n");
  ReplyParser parser;
  RespValue out;
  std::string buffer;
  ParseResult r{ParseStatus::incomplete};
  for (std::size_t sent = 0; sent < frame.size(); sent += 16) {
    buffer.append(frame, sent, 16);
    r = parser.parse(buffer, out);
    if (r.status != ParseStatus::incomplete) break;
  }
  ASSERT_EQ(r.status, ParseStatus::complete) << r.error;
  ASSERT_EQ(out.elements.size(), kCount);
  EXPECT_EQ(out.elements[99'999], integer(99'999));
}

}  // namespace
}  // namespace greenrpc::protocol
