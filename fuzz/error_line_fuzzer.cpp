// libFuzzer target: the client's reading of an error reply's text (rpc/error_line.hpp), which
// comes from whatever server the client talks to.
//
// Invariants: no crash or sanitizer report; the code is the text up to the first space; a line
// read as JSON values, written back with append_error_line, reads back the same (the location,
// the strings, in order); a line not read as JSON keeps its text as the message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "greenrpc/rpc/error_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const greenrpc::ErrorLine parsed = greenrpc::parse_error_line(text);
  FUZZ_CHECK(parsed.code == text.substr(0, text.find(' ')));
  if (!parsed.json) {
    FUZZ_CHECK(parsed.message() == parsed.rest);
    return 0;
  }
  // Tino's layout carries at most a location, a message and a type; messages are cut at
  // kMaxErrorMessageBytes (not a round trip past that).
  if (parsed.strings.size() > 2) return 0;
  for (const std::string& s : parsed.strings)
    if (s.size() > greenrpc::kMaxErrorMessageBytes) return 0;
  greenrpc::ErrorReport report{.code = parsed.code};
  if (parsed.location) report.location = &*parsed.location;
  if (!parsed.strings.empty()) report.message = parsed.strings[0];
  if (parsed.strings.size() > 1) report.type = parsed.strings[1];
  if (report.type.empty() && parsed.strings.size() > 1) return 0;  // an empty type is not written
  if (report.code.empty() || report.code.size() > 64) return 0;
  std::string again;
  greenrpc::append_error_line(again, report);
  const greenrpc::ErrorLine reread = greenrpc::parse_error_line(again);
  FUZZ_CHECK(reread.json);
  FUZZ_CHECK(reread.location == parsed.location);
  FUZZ_CHECK(reread.strings == parsed.strings);
  return 0;
}
