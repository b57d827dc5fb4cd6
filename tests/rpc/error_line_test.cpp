// Error lines in Tino's layout: written exactly as Python's json.dumps writes the values, and read
// back by the client.
#include "greenrpc/rpc/error_line.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using greenrpc::append_error_line;
using greenrpc::ErrorLine;
using greenrpc::ErrorPath;
using greenrpc::ErrorReport;
using greenrpc::parse_error_line;

std::string line_of(const ErrorReport& report) {
  std::string out;
  append_error_line(out, report);
  return out;
}

TEST(ErrorLine, TinosValidationLine) {
  const ErrorPath path{"command", "b", "value"};
  EXPECT_EQ(line_of({.code = "VALIDATION_ERROR", .message = "value is not a valid integer", .location = &path,
                     .type = "type_error.integer"}),
            R"(VALIDATION_ERROR ["command", "b", "value"] "value is not a valid integer" "type_error.integer")");
  const ErrorPath indexed{"command", 0, "items", 3, -7};
  EXPECT_EQ(line_of({.code = "INVALID_MSGPACK", .message = "invalid msgpack", .location = &indexed}),
            R"(INVALID_MSGPACK ["command", 0, "items", 3, -7] "invalid msgpack")");
}

TEST(ErrorLine, BareAndFreeText) {
  EXPECT_EQ(line_of({.code = "NUM_ARG_MISMATCH"}), "NUM_ARG_MISMATCH");
  // A message, even empty, is a JSON string (Tino: UNEXPECTED_ERROR json.dumps(str(e))).
  EXPECT_EQ(line_of({.code = "UNEXPECTED_ERROR", .message = ""}), R"(UNEXPECTED_ERROR "")");
  EXPECT_EQ(line_of({.code = "INVALID_COMMAND", .message = "Add_Typo", .free_text = true}), "INVALID_COMMAND Add_Typo");
  // Free text cannot split the RESP line; a code cannot be two words.
  EXPECT_EQ(line_of({.code = "ERR", .message = "a\r\nb", .free_text = true}), "ERR a  b");
  EXPECT_EQ(line_of({.code = "MY CODE\r\n", .message = "x"}), R"(MY_CODE__ "x")");
}

TEST(ErrorLine, StringsAreEscapedAsPythonsJsonDumps) {
  // Expected values printed by python3 -c 'import json; print(json.dumps(s))'.
  EXPECT_EQ(line_of({.code = "E", .message = "say \"hi\" \xc3\xa9\xf0\x9f\x98\x80" + std::string(1, '\0') +
                                               "\x7f\t\n\r\b\f\\/"}),
            R"(E "say \"hi\" \u00e9\ud83d\ude00\u0000\u007f\t\n\r\b\f\\/")");
  EXPECT_EQ(line_of({.code = "E", .message = "\xe2\x80\xa8x"}), R"(E "\u2028x")");
  // Bytes that are not UTF-8 (a lone continuation byte, an overlong form, a truncated sequence,
  // an encoded surrogate): U+FFFD each, never raw bytes.
  EXPECT_EQ(line_of({.code = "E", .message = "a\x80" "b\xc0\xaf" "c\xe2\x82" "d\xed\xa0\x80"}),
            R"(E "a\ufffdb\ufffd\ufffdc\ufffd\ufffdd\ufffd\ufffd\ufffd")");
}

TEST(ErrorLine, LongMessagesAreCutAtACharacterBoundary) {
  // 3,000 two-byte characters: 6,000 bytes, cut to at most 4,096 without splitting one.
  std::string message;
  for (int i = 0; i < 3000; ++i) message += "\xc3\xa9";
  const std::string line = line_of({.code = "UNEXPECTED_ERROR", .message = message});
  const ErrorLine parsed = parse_error_line(line);
  ASSERT_EQ(parsed.strings.size(), 1u);
  const std::string& got = parsed.strings[0];
  EXPECT_LE(got.size(), greenrpc::kMaxErrorMessageBytes);
  ASSERT_TRUE(got.ends_with("..."));
  EXPECT_EQ(got.substr(0, got.size() - 3), message.substr(0, got.size() - 3));
  EXPECT_EQ((got.size() - 3) % 2, 0u) << "a character was split";
  // Free text too (a command name a peer sent).
  const std::string name(100'000, 'n');
  const std::string free = line_of({.code = "INVALID_COMMAND", .message = name, .free_text = true});
  EXPECT_EQ(free, "INVALID_COMMAND " + std::string(greenrpc::kMaxErrorMessageBytes - 3, 'n') + "...");
}

TEST(ErrorLine, ParsesWhatItWrites) {
  const ErrorPath path{"command", "k\"ey \xc3\xa9", 12};
  const std::string text = line_of({.code = "VALIDATION_ERROR", .message = "m\n\xf0\x9f\x98\x80", .location = &path,
                                    .type = "type_error.x"});
  const ErrorLine parsed = parse_error_line(text);
  EXPECT_TRUE(parsed.json);
  EXPECT_EQ(parsed.code, "VALIDATION_ERROR");
  ASSERT_TRUE(parsed.location.has_value());
  EXPECT_EQ(*parsed.location, path);
  ASSERT_EQ(parsed.strings.size(), 2u);
  EXPECT_EQ(parsed.strings[0], "m\n\xf0\x9f\x98\x80");
  EXPECT_EQ(parsed.strings[1], "type_error.x");
  EXPECT_EQ(parsed.message(), "m\n\xf0\x9f\x98\x80");
}

TEST(ErrorLine, ReadsOtherPeoplesLinesAsFreeText) {
  // Redis's own errors, Tino's INVALID_COMMAND, anything not made of JSON values.
  for (const char* text : {"ERR unknown command 'x'", "INVALID_COMMAND nope", "X \"unterminated", "X [1, 2",
                           "X \"a\" trailing", "X [\"a\", [1]]", "X \"a\"  \"b\"", "X \"\\q\"", "X 12"}) {
    const ErrorLine parsed = parse_error_line(text);
    EXPECT_FALSE(parsed.json) << text;
    EXPECT_EQ(parsed.message(), std::string(text).substr(std::string(text).find(' ') + 1)) << text;
    EXPECT_TRUE(parsed.strings.empty()) << text;
    EXPECT_FALSE(parsed.location.has_value()) << text;
  }
  const ErrorLine bare = parse_error_line("PERMISSION_DENIED");
  EXPECT_TRUE(bare.json);
  EXPECT_EQ(bare.code, "PERMISSION_DENIED");
  EXPECT_EQ(bare.message(), "");
  // Python writes a lone surrogate escape as such; it reads as U+FFFD.
  EXPECT_EQ(parse_error_line(R"(E "\ud800x")").message(), "\xef\xbf\xbdx");
  EXPECT_EQ(parse_error_line(R"(E "\/\u0041")").message(), "/A");
}

}  // namespace
