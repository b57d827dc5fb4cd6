#pragma once
// The text of an error reply (RESP's "-<text>\r\n"): Tino's layout, a code followed by JSON
// values separated by single spaces, as Python's json.dumps writes them:
//   VALIDATION_ERROR ["command", "b", "value"] "value is not a valid integer" "type_error.integer"
//   INVALID_MSGPACK ["command", "a"] "invalid msgpack"
//   DEADLINE_EXCEEDED "the caller's deadline passed before the command ran"
//   NUM_ARG_MISMATCH
// except free-text reports (ERR ..., INVALID_COMMAND <name>). docs/protocol.md §3.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greenrpc/rpc/error_report.hpp"

namespace greenrpc {

// Appends the line for `report` (no leading '-', no CRLF). CR and LF never appear in it: JSON
// escapes them, and free text has them replaced by spaces. The message is cut to
// kMaxErrorMessageBytes (cut_error_message).
void append_error_line(std::string& out, const ErrorReport& report);

// `text` cut to at most kMaxErrorMessageBytes at a UTF-8 character boundary; `cut` says whether
// it was (the caller then appends "...").
std::string_view cut_error_message(std::string_view text, bool& cut) noexcept;

// An error line as a client reads it.
struct ErrorLine {
  std::string code;  // the first word
  std::string rest;  // everything after "<code> ", as sent
  // When `rest` is a sequence of JSON values (strings, integers, one flat array of them):
  bool json = false;
  std::optional<ErrorPath> location;  // the array, if any (the first value of Tino's validation errors)
  std::vector<std::string> strings;   // the string values, in order
  // What a person reads: the first string value when `json`, else `rest`.
  std::string message() const { return json ? (strings.empty() ? std::string() : strings.front()) : rest; }
};

// Never throws on bad input: a line that is not Tino's layout is free text (json == false).
ErrorLine parse_error_line(std::string_view line);

}  // namespace greenrpc
