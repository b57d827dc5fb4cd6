// RESP writer: exact bytes of each appender, and round trips through both parsers.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "greenrpc/protocol/reply_parser.hpp"
#include "greenrpc/protocol/request_parser.hpp"
#include "greenrpc/protocol/resp_writer.hpp"

namespace greenrpc::protocol {
namespace {

using namespace std::string_literals;

TEST(RespWriter, Simple) {
  std::string out;
  append_simple(out, "OK");
  EXPECT_EQ(out, "+OK\r\n");
  append_simple(out, "");
  EXPECT_EQ(out, "+OK\r\n+\r\n");
}

TEST(RespWriter, SimpleAndErrorReplaceLineBreaks) {
  std::string out = "prefix\r\n";
  append_simple(out, "a\r\nb\nc\rd");
  EXPECT_EQ(out, "prefix\r\n+a  b c d\r\n");
  out.clear();
  append_error(out, "ERR bad\r\nthing");
  EXPECT_EQ(out, "-ERR bad  thing\r\n");
}

TEST(RespWriter, Error) {
  std::string out;
  append_error(out, "ERR unknown command");
  EXPECT_EQ(out, "-ERR unknown command\r\n");
}

TEST(RespWriter, Integer) {
  std::string out;
  append_integer(out, 0);
  append_integer(out, 42);
  append_integer(out, -7);
  EXPECT_EQ(out, ":0\r\n:42\r\n:-7\r\n");
  out.clear();
  append_integer(out, INT64_MIN);
  append_integer(out, INT64_MAX);
  EXPECT_EQ(out, ":-9223372036854775808\r\n:9223372036854775807\r\n");
}

TEST(RespWriter, Bulk) {
  std::string out;
  append_bulk(out, "hello");
  EXPECT_EQ(out, "$5\r\nhello\r\n");
  out.clear();
  append_bulk(out, "");
  EXPECT_EQ(out, "$0\r\n\r\n");
  out.clear();
  append_bulk(out, "a\r\n\0b"s);  // binary safe: nothing is replaced
  EXPECT_EQ(out, "$5\r\na\r\n\0b\r\n"s);
  out.clear();
  const std::string big(12345, 'q');
  append_bulk(out, big);
  EXPECT_EQ(out, "$12345\r\n"s + big + "\r\n");
}

TEST(RespWriter, NullAndArrayHeader) {
  std::string out;
  append_null(out);
  append_array_header(out, 0);
  append_array_header(out, 3);
  append_array_header(out, SIZE_MAX);
  EXPECT_EQ(out, "$-1\r\n*0\r\n*3\r\n*18446744073709551615\r\n");
}

TEST(RespWriter, Command) {
  std::string out;
  const std::array<std::string_view, 3> parts = {"SET", "key", "v\r\n"};
  append_command(out, parts);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\nv\r\n\r\n");
  out.clear();
  append_command(out, {});
  EXPECT_EQ(out, "*0\r\n");
}

TEST(RespRoundTrip, CommandsThroughRequestParser) {
  const std::vector<std::vector<std::string>> commands = {
      {"PING"},
      {"SET", "key", "value"},
      {"ECHO", "\r\n\0\xff*$+"s},
      {"ECHO", ""},
      {"MSET", "a", std::string(70'000, 'x'), "b", "c"},
  };
  std::string wire;
  for (const auto& command : commands) {
    const std::vector<std::string_view> views(command.begin(), command.end());
    append_command(wire, views);
  }
  RequestParser parser;
  std::size_t offset = 0;
  for (const auto& command : commands) {
    const ParseResult r = parser.parse(std::string_view(wire).substr(offset));
    ASSERT_EQ(r.status, ParseStatus::complete) << r.error;
    EXPECT_FALSE(parser.last_was_inline());
    EXPECT_EQ(std::vector<std::string>(parser.args().begin(), parser.args().end()), command);
    offset += r.consumed;
  }
  EXPECT_EQ(offset, wire.size());
}

TEST(RespRoundTrip, RepliesThroughReplyParser) {
  using Type = RespValue::Type;
  std::string wire;
  append_simple(wire, "OK");
  append_error(wire, "ERR line\nbreak");
  append_integer(wire, INT64_MIN);
  append_bulk(wire, "bin\0ary"s);
  append_null(wire);
  append_array_header(wire, 3);
  append_integer(wire, 1);
  append_array_header(wire, 2);
  append_bulk(wire, "x");
  append_null(wire);
  append_simple(wire, "done");

  const std::vector<RespValue> expected = {
      {Type::simple_string, "OK", 0, {}},
      {Type::error, "ERR line break", 0, {}},
      {Type::integer, "", INT64_MIN, {}},
      {Type::bulk_string, "bin\0ary"s, 0, {}},
      {Type::null, "", 0, {}},
      {Type::array,
       "",
       0,
       {{Type::integer, "", 1, {}},
        {Type::array, "", 0, {{Type::bulk_string, "x", 0, {}}, {Type::null, "", 0, {}}}},
        {Type::simple_string, "done", 0, {}}}},
  };

  ReplyParser parser;
  std::size_t offset = 0;
  for (const auto& value : expected) {
    RespValue out;
    const ParseResult r = parser.parse(std::string_view(wire).substr(offset), out);
    ASSERT_EQ(r.status, ParseStatus::complete) << r.error;
    EXPECT_EQ(out, value);
    offset += r.consumed;
  }
  EXPECT_EQ(offset, wire.size());
}

}  // namespace
}  // namespace greenrpc::protocol
