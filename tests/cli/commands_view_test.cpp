// Reading and showing COMMAND DOCS (src/cli/commands_view.hpp), on a reply shaped like
// src/server/builtin_commands.cpp's.
#include <gtest/gtest.h>

#include "commands_view.hpp"

namespace {

using greenrpc::protocol::RespValue;
using T = RespValue::Type;

RespValue bulk(std::string s) { return RespValue{T::bulk_string, std::move(s), 0, {}}; }
RespValue array(std::vector<RespValue> e) { return RespValue{T::array, "", 0, std::move(e)}; }

RespValue argument(std::string name, std::string type) {
  return array({bulk("name"), bulk(std::move(name)), bulk("type"), bulk("string"), bulk("display_text"),
                bulk("msgpack " + type)});
}

RespValue docs_reply() {
  return array({
      bulk("ping"),
      array({bulk("summary"), bulk("Returns PONG, or the message given."), bulk("since"), bulk("0.1.0"),
             bulk("group"), bulk("connection")}),
      bulk("add"),
      array({bulk("summary"), bulk("greenrpc command returning int"), bulk("since"), bulk("0.1.0"), bulk("group"),
             bulk("greenrpc"), bulk("arguments"), array({argument("a", "int"), argument("b", "NumberInput")})}),
      bulk("noop"),
      array({bulk("summary"), bulk("Does nothing."), bulk("since"), bulk("0.1.0"), bulk("group"), bulk("greenrpc"),
             bulk("arguments"), array({})}),
  });
}

TEST(CommandsView, ParsesTheFlattenedMaps) {
  auto docs = greenrpc::cli::parse_command_docs(docs_reply());
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_FALSE(docs[0].is_user_command());
  EXPECT_TRUE(docs[1].is_user_command());
  EXPECT_EQ(docs[1].signature(), "add(a: int, b: NumberInput) -> int");
  EXPECT_EQ(docs[2].signature(), "noop()");
  EXPECT_EQ(docs[0].signature(), "ping");
  EXPECT_EQ(greenrpc::cli::render_json(greenrpc::cli::command_doc_json(docs[1])),
            R"({"name":"add","summary":"greenrpc command returning int","since":"0.1.0","group":"greenrpc",)"
            R"("arguments":[{"name":"a","type":"string","display_text":"msgpack int"},)"
            R"({"name":"b","type":"string","display_text":"msgpack NumberInput"}]})");
}

TEST(CommandsView, ListShowsSignaturesAndOnlyRealSummaries) {
  auto docs = greenrpc::cli::parse_command_docs(docs_reply());
  EXPECT_EQ(greenrpc::cli::render_command_list(docs),
            "ping                                Returns PONG, or the message given.\n"
            "add(a: int, b: NumberInput) -> int\n"
            "noop()                              Does nothing.\n");
}

TEST(CommandsView, DescribeShowsEveryField) {
  auto docs = greenrpc::cli::parse_command_docs(docs_reply());
  EXPECT_EQ(greenrpc::cli::render_command_doc(docs[1]),
            "add(a: int, b: NumberInput) -> int\n"
            "  summary: greenrpc command returning int\n"
            "  since: 0.1.0\n"
            "  group: greenrpc\n"
            "  arguments:\n"
            "    a: int\n"
            "    b: NumberInput\n"
            "  returns: int\n");
}

TEST(CommandsView, RefusesOtherShapes) {
  EXPECT_THROW(greenrpc::cli::parse_command_docs(bulk("x")), std::runtime_error);
  EXPECT_THROW(greenrpc::cli::parse_command_docs(array({bulk("add")})), std::runtime_error);
  EXPECT_TRUE(greenrpc::cli::parse_command_docs(array({})).empty());
}

}  // namespace
