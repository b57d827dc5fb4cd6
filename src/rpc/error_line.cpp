#include "greenrpc/rpc/error_line.hpp"

#include "json_text.hpp"

namespace greenrpc {

std::string_view cut_error_message(std::string_view text, bool& cut) noexcept {
  cut = text.size() > kMaxErrorMessageBytes;
  if (!cut) return text;
  std::size_t end = kMaxErrorMessageBytes - 3;  // room for "..."
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;  // not inside a character
  return text.substr(0, end);
}

void append_error_line(std::string& out, const ErrorReport& report) {
  // The code is one word whatever a handler chose.
  for (char c : report.code.substr(0, 64)) out += (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) ? '_' : c;
  bool cut = false;
  const std::string_view message = report.message ? cut_error_message(*report.message, cut) : std::string_view();
  if (report.free_text) {
    if (message.empty()) return;
    out += ' ';
    for (char c : message) out += (c == '\r' || c == '\n') ? ' ' : c;
    if (cut) out += "...";
    return;
  }
  if (report.location) {
    out += ' ';
    json_text::append_path(out, *report.location);
  }
  if (report.message) {
    out += ' ';
    json_text::append_string(out, cut ? std::string(message) + "..." : message);
  }
  if (!report.type.empty()) {
    out += ' ';
    json_text::append_string(out, report.type);
  }
}

ErrorLine parse_error_line(std::string_view line) {
  ErrorLine parsed;
  const std::size_t space = line.find(' ');
  parsed.code.assign(line.substr(0, space));
  if (space == std::string_view::npos) {
    parsed.json = true;  // a bare code: no values
    return parsed;
  }
  parsed.rest.assign(line.substr(space + 1));
  std::string_view in = parsed.rest;
  std::size_t pos = 0;
  bool ok = !in.empty();
  while (ok && pos < in.size()) {
    if (in[pos] == '[' && !parsed.location && parsed.strings.empty()) {
      auto path = json_text::read_path(in, pos);
      ok = path.has_value();
      if (ok) parsed.location = std::move(*path);
    } else {
      auto s = json_text::read_string(in, pos);
      ok = s.has_value();
      if (ok) parsed.strings.push_back(std::move(*s));
    }
    if (ok && pos < in.size()) ok = in[pos++] == ' ' && pos < in.size();
  }
  if (!ok) {
    parsed.location.reset();
    parsed.strings.clear();
    return parsed;
  }
  parsed.json = true;
  return parsed;
}

}  // namespace greenrpc
