// Splitting a `greenrpc call --pipe` line (src/cli/call_line.hpp) and reading bounded lines
// (src/cli/line_reader.hpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "call_line.hpp"
#include "line_reader.hpp"

namespace {

using greenrpc::cli::split_call_line;

std::vector<std::string> args(const std::string& line) { return split_call_line(line).arguments; }

TEST(CallLine, CommandThenJsonValues) {
  auto call = split_call_line(R"(add 1 {"value": 2})");
  EXPECT_EQ(call.command, "add");
  EXPECT_EQ(call.arguments, (std::vector<std::string>{"1", R"({"value": 2})"}));
}

TEST(CallLine, SpacesInsideStringsAndBracketsStayInTheValue) {
  EXPECT_EQ(args(R"(echo "two words" [1, "a b", {"k": [2, 3]}]  -5)"),
            (std::vector<std::string>{R"("two words")", R"([1, "a b", {"k": [2, 3]}])", "-5"}));
  EXPECT_EQ(args(R"(x "a \" ] b" "\\" )"), (std::vector<std::string>{R"("a \" ] b")", R"("\\")"}));
  EXPECT_EQ(args("x\t1\t\t2  "), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(args("  ping  ").empty());
}

TEST(CallLine, UnbalancedInputIsRefused) {
  EXPECT_THROW(split_call_line(R"(echo "open)"), std::invalid_argument);
  EXPECT_THROW(split_call_line(R"(add 1 {"value": 2)"), std::invalid_argument);
  EXPECT_THROW(split_call_line("   "), std::invalid_argument);
  // Junk that is balanced is one token here and refused later as JSON.
  EXPECT_EQ(args("x [1]2"), (std::vector<std::string>{"[1]2"}));
}

TEST(CallLine, BlankAndCommentLines) {
  EXPECT_TRUE(greenrpc::cli::is_blank_or_comment(""));
  EXPECT_TRUE(greenrpc::cli::is_blank_or_comment(" \t"));
  EXPECT_TRUE(greenrpc::cli::is_blank_or_comment("  # add 1 2"));
  EXPECT_FALSE(greenrpc::cli::is_blank_or_comment("add 1 2 # not a comment here"));
}

// Writes `input` into a pipe from another thread; reads it back line by line.
std::vector<std::string> read_lines(const std::string& input, std::size_t max_line) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  std::thread writer([&] {
    std::size_t done = 0;
    while (done < input.size()) {
      ssize_t n = ::write(fds[1], input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
  });
  greenrpc::cli::LineReader reader(fds[0], max_line);
  std::vector<std::string> out;
  while (auto line = reader.next()) out.push_back(line->too_long ? "<too long>" : line->text);
  writer.join();
  ::close(fds[0]);
  return out;
}

TEST(LineReader, SplitsOnNewlinesAndDropsCarriageReturns) {
  EXPECT_EQ(read_lines("a\nbb\r\n\nlast", 100), (std::vector<std::string>{"a", "bb", "", "last"}));
  EXPECT_EQ(read_lines("a\n", 100), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(read_lines("", 100).empty());
}

TEST(LineReader, LongLinesAreReportedAndSkippedNotKept) {
  const std::string huge(300'000, 'x');  // several read chunks
  EXPECT_EQ(read_lines("ok\n" + huge + "\nnext\n" + huge, 1000),
            (std::vector<std::string>{"ok", "<too long>", "next", "<too long>"}));
  EXPECT_EQ(read_lines(std::string(10, 'y') + "\n", 10), (std::vector<std::string>{std::string(10, 'y')}));
  EXPECT_EQ(read_lines(std::string(11, 'y') + "\n", 10), (std::vector<std::string>{"<too long>"}));
}

}  // namespace
