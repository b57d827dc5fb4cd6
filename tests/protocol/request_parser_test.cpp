// RequestParser: valid frames (whole, split at every byte, pipelined), malformed frames, limits.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "greenrpc/protocol/request_parser.hpp"

namespace greenrpc::protocol {
namespace {

using namespace std::string_literals;

struct ValidFrame {
  std::string name;
  std::string bytes;
  std::vector<std::string> args;
  bool is_inline = false;
};

std::vector<std::string> to_strings(std::span<const std::string_view> args) {
  return {args.begin(), args.end()};
}

std::string binary_payload(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) % 256);
  return s;
}

std::string bulk_array(const std::vector<std::string>& parts) {
  std::string out = "*"s + std::to_string(parts.size()) + "\r\n";
  for (const auto& p : parts) out += "$"s + std::to_string(p.size()) + "\r\n"s + p + "\r\n";
  return out;
}

std::vector<ValidFrame> valid_frames() {
  std::vector<std::string> thirty;
  for (int i = 0; i < 30; ++i) thirty.push_back("arg"s + std::to_string(i));
  const std::string big = binary_payload(1000);
  return {
      {"ping", "*1\r\n$4\r\nPING\r\n", {"PING"}},
      {"set", "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", {"SET", "key", "value"}},
      {"binary_crlf_nul", "*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\0b\n\r\n"s, {"ECHO", "a\r\n\0b\n"s}},
      {"empty_bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", {"ECHO", ""}},
      {"only_empty_bulk", "*1\r\n$0\r\n\r\n", {""}},
      {"type_bytes_in_payload", "*1\r\n$5\r\n*$+-:\r\n", {"*$+-:"}},
      {"empty_array", "*0\r\n", {}},
      {"null_array", "*-1\r\n", {}},
      {"big_binary", bulk_array({"SET", big}), {"SET", big}},
      {"thirty_args", bulk_array(thirty), thirty},
      {"inline_crlf", "PING\r\n", {"PING"}, true},
      {"inline_lf", "PING\n", {"PING"}, true},
      {"inline_spaces", "  \t GET   key  \r\n", {"GET", "key"}, true},
      {"inline_empty_line", "\r\n", {}, true},
      {"inline_blank_line", "   \n", {}, true},
      {"inline_quotes", "SET k \"a b\\n\\x41\\\"\" 'it\\'s'\r\n", {"SET", "k", "a b\nA\"", "it's"}, true},
      {"inline_all_escapes", "\"\\n\\r\\t\\b\\a\\\\\\\"\\z\"\n", {"\n\r\t\b\a\\\"z"}, true},
      {"inline_hex", "\"\\x00\\xff\\xAb\" x\n", {"\0\xff\xab"s, "x"}, true},
      {"inline_bad_hex_is_literal", "\"\\xZZ\"\n", {"xZZ"}, true},
      {"inline_concatenated", "foo\"bar\" baz\n", {"foobar", "baz"}, true},
      {"inline_empty_quotes", "SET k '' \"\"\n", {"SET", "k", "", ""}, true},
      {"inline_single_keeps_backslash", "'a\\b' 'c\\n'\n", {"a\\b", "c\\n"}, true},
      {"inline_nul_ends_line", "GET a\0b c\n"s, {"GET", "a"}, true},
      {"inline_inner_cr", "A\rB\r\n", {"A", "B"}, true},
  };
}

class ValidFrameTest : public ::testing::TestWithParam<ValidFrame> {};

void expect_frame(const RequestParser& parser, const ParseResult& r, const ValidFrame& f) {
  ASSERT_EQ(r.status, ParseStatus::complete) << r.error;
  EXPECT_EQ(r.consumed, f.bytes.size());
  EXPECT_EQ(to_strings(parser.args()), f.args);
  EXPECT_EQ(parser.last_was_inline(), f.is_inline);
}

// Holds `bytes` at a shifting offset inside a fresh allocation, so a parser that kept pointers
// (instead of offsets) across calls would read stale memory.
struct MovedBuffer {
  std::string storage;
  std::string_view view;
  MovedBuffer(std::string_view bytes, std::size_t shift) : storage(shift + 17, '#') {
    storage.append(bytes);
    view = std::string_view(storage).substr(shift + 17);
  }
};

TEST_P(ValidFrameTest, ParsesWhole) {
  const ValidFrame& f = GetParam();
  RequestParser parser;
  const ParseResult r = parser.parse(f.bytes);
  expect_frame(parser, r, f);
  if (!f.is_inline) {
    // Zero copy: every argument views the input.
    for (std::string_view arg : parser.args()) {
      EXPECT_GE(arg.data(), f.bytes.data());
      EXPECT_LE(arg.data() + arg.size(), f.bytes.data() + f.bytes.size());
    }
  }
}

TEST_P(ValidFrameTest, ParsesWholeFollowedByMoreBytes) {
  const ValidFrame& f = GetParam();
  RequestParser parser;
  const std::string input = f.bytes + "*1\r\n$4\r\nPING\r\n";
  expect_frame(parser, parser.parse(input), f);
}

TEST_P(ValidFrameTest, EveryPrefixIsIncompleteThenWholeCompletes) {
  const ValidFrame& f = GetParam();
  for (std::size_t k = 0; k < f.bytes.size(); ++k) {
    SCOPED_TRACE("prefix length "s + std::to_string(k));
    RequestParser parser;
    const MovedBuffer prefix(std::string_view(f.bytes).substr(0, k), k % 5);
    const ParseResult partial = parser.parse(prefix.view);
    ASSERT_EQ(partial.status, ParseStatus::incomplete) << partial.error;
    EXPECT_TRUE(parser.args().empty());
    if (partial.needed != 0) {
      EXPECT_GT(partial.needed, k);
      EXPECT_LE(partial.needed, f.bytes.size());
    }
    const MovedBuffer whole(f.bytes, 3);
    expect_frame(parser, parser.parse(whole.view), f);
  }
}

TEST_P(ValidFrameTest, ByteByByteWithOneParser) {
  const ValidFrame& f = GetParam();
  RequestParser parser;
  for (std::size_t k = 1; k < f.bytes.size(); ++k) {
    const MovedBuffer prefix(std::string_view(f.bytes).substr(0, k), k % 7);
    ASSERT_EQ(parser.parse(prefix.view).status, ParseStatus::incomplete) << "prefix length " << k;
  }
  const MovedBuffer whole(f.bytes, 6);
  expect_frame(parser, parser.parse(whole.view), f);
}

INSTANTIATE_TEST_SUITE_P(Frames, ValidFrameTest, ::testing::ValuesIn(valid_frames()),
                         [](const auto& p) { return p.param.name; });

TEST(RequestParserPipeline, ConsumesFramesOneAfterAnother) {
  const auto frames = valid_frames();
  std::string buffer;
  for (const auto& f : frames) buffer += f.bytes;

  RequestParser parser;
  std::size_t offset = 0;
  for (const auto& f : frames) {
    SCOPED_TRACE(f.name);
    const ParseResult r = parser.parse(std::string_view(buffer).substr(offset));
    expect_frame(parser, r, f);
    offset += r.consumed;
  }
  EXPECT_EQ(offset, buffer.size());
  EXPECT_EQ(parser.parse(std::string_view(buffer).substr(offset)).status, ParseStatus::incomplete);
}

// A connection's read loop: chunks arrive, complete frames are taken and dropped from the front.
TEST(RequestParserPipeline, ChunkedArrivalWithCompaction) {
  const auto frames = valid_frames();
  std::string stream;
  for (int round = 0; round < 3; ++round)
    for (const auto& f : frames) stream += f.bytes;

  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    SCOPED_TRACE("chunk "s + std::to_string(chunk));
    RequestParser parser;
    std::string buffer;
    std::vector<std::vector<std::string>> got;
    std::vector<bool> inline_flags;
    for (std::size_t sent = 0; sent < stream.size(); sent += chunk) {
      buffer.append(stream, sent, chunk);
      for (;;) {
        const ParseResult r = parser.parse(buffer);
        ASSERT_NE(r.status, ParseStatus::error) << r.error;
        if (r.status == ParseStatus::incomplete) break;
        got.push_back(to_strings(parser.args()));
        inline_flags.push_back(parser.last_was_inline());
        buffer.erase(0, r.consumed);
      }
    }
    EXPECT_TRUE(buffer.empty());
    ASSERT_EQ(got.size(), frames.size() * 3);
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], frames[i % frames.size()].args) << frames[i % frames.size()].name;
      EXPECT_EQ(inline_flags[i], frames[i % frames.size()].is_inline);
    }
  }
}

TEST(RequestParserInline, UnquotedArgsViewInputAndQuotedUseParserStorage) {
  RequestParser parser;
  const std::string line = "SET key \"quoted value\"\r\n";
  ASSERT_EQ(parser.parse(line).status, ParseStatus::complete);
  const auto args = parser.args();
  ASSERT_EQ(args.size(), 3u);
  const auto inside = [&](std::string_view a) {
    return a.data() >= line.data() && a.data() + a.size() <= line.data() + line.size();
  };
  EXPECT_TRUE(inside(args[0]));
  EXPECT_TRUE(inside(args[1]));
  EXPECT_FALSE(inside(args[2]));
  EXPECT_EQ(args[2], "quoted value");
}

TEST(RequestParserInline, ManyQuotedArgsStayValid) {
  // Arena growth must not invalidate views of earlier arguments.
  std::string line;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    line += "\"v"s + std::to_string(i) + "\\x21\" ";
    expected.push_back("v"s + std::to_string(i) + "!");
  }
  line += "\n";
  RequestParser parser;
  ASSERT_EQ(parser.parse(line).status, ParseStatus::complete);
  EXPECT_EQ(to_strings(parser.args()), expected);
}

struct BadFrame {
  std::string name;
  std::string bytes;
  std::string message;
  ProtocolLimits limits = {};
};

ProtocolLimits small_limits() {
  ProtocolLimits l;
  l.max_bulk_bytes = 10;
  l.max_array_elements = 4;
  l.max_inline_bytes = 16;
  return l;
}

constexpr const char* kMultibulk = "Protocol error: invalid multibulk length";
constexpr const char* kBulk = "Protocol error: invalid bulk length";
constexpr const char* kCrlf = "Protocol error: missing CRLF after bulk payload";
constexpr const char* kInline = "Protocol error: too big inline request";
constexpr const char* kQuotes = "Protocol error: unbalanced quotes in request";

std::vector<BadFrame> bad_frames() {
  return {
      {"count_not_digits", "*abc\r\n", kMultibulk},
      {"count_empty", "*\r\n", kMultibulk},
      {"count_negative", "*-2\r\n", kMultibulk},
      {"count_leading_zero", "*01\r\n$1\r\na\r\n", kMultibulk},
      {"count_plus_sign", "*+1\r\n", kMultibulk},
      {"count_trailing_space", "*1 \r\n", kMultibulk},
      {"count_lf_only", "*1\n$1\r\na\r\n", kMultibulk},
      {"count_overflow", "*99999999999999999999999\r\n", kMultibulk},
      {"count_line_too_long", "*"s + std::string(40, '1'), kMultibulk},
      {"count_over_limit", "*5\r\n", kMultibulk, small_limits()},
      {"count_over_default_limit", "*1048577\r\n", kMultibulk},
      {"length_not_digits", "*1\r\n$abc\r\n", kBulk},
      {"length_empty", "*1\r\n$\r\n", kBulk},
      {"length_negative", "*1\r\n$-1\r\n", kBulk},
      {"length_overflow", "*1\r\n$99999999999999999999999\r\n", kBulk},
      {"length_int64_plus_one", "*1\r\n$9223372036854775808\r\n", kBulk},
      {"length_lf_only", "*1\r\n$3\nfoo\r\n", kBulk},
      {"length_line_too_long", "*1\r\n$"s + std::string(40, '1'), kBulk},
      {"length_over_limit", "*1\r\n$11\r\n", kBulk, small_limits()},
      {"wrong_type_colon", "*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
      {"wrong_type_second", "*2\r\n$3\r\nGET\r\n+key\r\n", "Protocol error: expected '$', got '+'"},
      {"payload_no_crlf", "*1\r\n$3\r\nfooXY", kCrlf},
      {"payload_cr_then_junk", "*1\r\n$3\r\nfoo\rX", kCrlf},
      {"payload_lf_cr", "*1\r\n$3\r\nfoo\n\r", kCrlf},
      {"payload_longer_than_declared", "*1\r\n$2\r\nfoo\r\n", kCrlf},
      {"inline_too_long_no_newline", std::string(18, 'a'), kInline, small_limits()},
      {"inline_too_long_with_newline", std::string(17, 'a') + "\r\n", kInline, small_limits()},
      {"unbalanced_double", "SET \"abc\r\n", kQuotes},
      {"unbalanced_single", "GET 'x\r\n", kQuotes},
      {"text_after_double_quote", "\"a\"b\r\n", kQuotes},
      {"text_after_single_quote", "'a'b\n", kQuotes},
      {"escaped_final_quote", "\"abc\\\"\n", kQuotes},
  };
}

class BadFrameTest : public ::testing::TestWithParam<BadFrame> {};

TEST_P(BadFrameTest, WholeIsErrorWithMessage) {
  const BadFrame& f = GetParam();
  RequestParser parser(f.limits);
  const ParseResult r = parser.parse(f.bytes);
  EXPECT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, f.message);
}

TEST_P(BadFrameTest, PrefixesAreIncompleteOrTheSameError) {
  const BadFrame& f = GetParam();
  for (std::size_t k = 0; k < f.bytes.size(); ++k) {
    RequestParser parser(f.limits);
    const ParseResult r = parser.parse(std::string_view(f.bytes).substr(0, k));
    if (r.status == ParseStatus::error) {
      EXPECT_EQ(r.error, f.message) << "prefix length " << k;
    } else {
      EXPECT_EQ(r.status, ParseStatus::incomplete) << "prefix length " << k;
    }
  }
}

TEST_P(BadFrameTest, ByteByByteReachesTheErrorThenRecovers) {
  const BadFrame& f = GetParam();
  RequestParser parser(f.limits);
  ParseResult r{ParseStatus::incomplete};
  for (std::size_t k = 1; k <= f.bytes.size() && r.status == ParseStatus::incomplete; ++k) {
    const std::string prefix = f.bytes.substr(0, k);
    r = parser.parse(prefix);
  }
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, f.message);

  parser.reset();
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  ASSERT_EQ(parser.parse(ping).status, ParseStatus::complete);
  EXPECT_EQ(to_strings(parser.args()), std::vector<std::string>{"PING"});
}

INSTANTIATE_TEST_SUITE_P(Frames, BadFrameTest, ::testing::ValuesIn(bad_frames()),
                         [](const auto& p) { return p.param.name; });

TEST(RequestParserLimits, ValuesAtTheLimitAreAccepted) {
  RequestParser parser(small_limits());
  const std::string ten(10, 'x');
  const std::string at_bulk_limit = "*1\r\n$10\r\n"s + ten + "\r\n";
  ASSERT_EQ(parser.parse(at_bulk_limit).status, ParseStatus::complete);
  EXPECT_EQ(parser.args()[0], ten);

  const std::string at_array_limit = "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n";
  ASSERT_EQ(parser.parse(at_array_limit).status, ParseStatus::complete);
  EXPECT_EQ(parser.args().size(), 4u);

  const std::string sixteen(16, 'a');
  EXPECT_EQ(parser.parse(sixteen + "\r").status, ParseStatus::incomplete);
  const std::string at_inline_limit = sixteen + "\r\n";  // args() views it: keep it alive
  ASSERT_EQ(parser.parse(at_inline_limit).status, ParseStatus::complete);
  EXPECT_EQ(parser.args()[0], sixteen);
}

TEST(RequestParserNeeded, ReportsTheEndOfTheAwaitedPayload) {
  RequestParser parser;
  const std::string head = "*2\r\n$3\r\nGET\r\n$100\r\nab";
  const ParseResult r = parser.parse(head);
  ASSERT_EQ(r.status, ParseStatus::incomplete);
  EXPECT_EQ(r.needed, std::string("*2\r\n$3\r\nGET\r\n$100\r\n").size() + 100 + 2);
}

TEST(RequestParserNeeded, HugeDeclaredLengthIsOnlyAHint) {
  ProtocolLimits limits;
  limits.max_bulk_bytes = 2'000'000'000;
  RequestParser parser(limits);
  const std::string head = "*1\r\n$1000000000\r\n";
  const ParseResult r = parser.parse(head);
  ASSERT_EQ(r.status, ParseStatus::incomplete);
  EXPECT_EQ(r.needed, head.size() + 1'000'000'000u + 2);
}

TEST(RequestParserArgs, ArgsAreClearedByTheNextCall) {
  RequestParser parser;
  ASSERT_EQ(parser.parse("*1\r\n$4\r\nPING\r\n").status, ParseStatus::complete);
  EXPECT_EQ(parser.args().size(), 1u);
  EXPECT_EQ(parser.parse("*1\r\n$4\r\nPI").status, ParseStatus::incomplete);
  EXPECT_TRUE(parser.args().empty());
}

// Linearity: the parser resumes where it stopped. A quadratic parser would take minutes here.
TEST(RequestParserScale, TwoHundredThousandElementsIn64ByteChunks) {
  constexpr std::size_t kCount = 200'000;
  std::string frame = "*"s + std::to_string(kCount) + "\r\n";
  for (std::size_t i = 0; i < kCount; ++i) {
    const std::string v = std::to_string(i);
    frame += "$"s + std::to_string(v.size()) + "\r\n"s + v + "\r\n";
  }
  RequestParser parser;
  std::string buffer;
  ParseResult r{ParseStatus::incomplete};
  for (std::size_t sent = 0; sent < frame.size(); sent += 64) {
    buffer.append(frame, sent, 64);
    r = parser.parse(buffer);
    if (r.status != ParseStatus::incomplete) break;
  }
  ASSERT_EQ(r.status, ParseStatus::complete) << r.error;
  EXPECT_EQ(r.consumed, frame.size());
  ASSERT_EQ(parser.args().size(), kCount);
  EXPECT_EQ(parser.args()[0], "0");
  EXPECT_EQ(parser.args()[123456], "123456");
  EXPECT_EQ(parser.args()[kCount - 1], std::to_string(kCount - 1));
}

TEST(RequestParserScale, FiftyThousandElementsOneByteAtATime) {
  constexpr std::size_t kCount = 50'000;
  std::string frame = "*"s + std::to_string(kCount) + "\r\n";
  for (std::size_t i = 0; i < kCount; ++i) frame += "$5\r\nvalue\r\n";
  RequestParser parser;
  for (std::size_t k = 1; k < frame.size(); ++k) {
    ASSERT_EQ(parser.parse(std::string_view(frame).substr(0, k)).status, ParseStatus::incomplete);
  }
  ASSERT_EQ(parser.parse(frame).status, ParseStatus::complete);
  EXPECT_EQ(parser.args().size(), kCount);
}

TEST(RequestParserScale, LongInlineLineOneByteAtATime) {
  std::string line(60'000, 'x');
  line[30'000] = ' ';
  line += "\r\n";
  RequestParser parser;
  for (std::size_t k = 1; k < line.size(); ++k) {
    ASSERT_EQ(parser.parse(std::string_view(line).substr(0, k)).status, ParseStatus::incomplete);
  }
  ASSERT_EQ(parser.parse(line).status, ParseStatus::complete);
  EXPECT_EQ(parser.args().size(), 2u);
}

TEST(ParseRespInteger, FollowsRedisString2ll) {
  EXPECT_EQ(parse_resp_integer("0"), 0);
  EXPECT_EQ(parse_resp_integer("-1"), -1);
  EXPECT_EQ(parse_resp_integer("123"), 123);
  EXPECT_EQ(parse_resp_integer("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_resp_integer("-9223372036854775808"), INT64_MIN);
  for (std::string_view bad : {"", "-", "+1", "01", "-0", "00", " 1", "1 ", "1a", "9223372036854775808",
                               "-9223372036854775809", "0x10"}) {
    EXPECT_FALSE(parse_resp_integer(bad).has_value()) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace greenrpc::protocol
