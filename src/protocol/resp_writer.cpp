#include "greenrpc/protocol/resp_writer.hpp"

#include <algorithm>
#include <charconv>

namespace greenrpc::protocol {

namespace {

// Appends `s` with CR and LF replaced by spaces, so a line cannot be split.
void append_sanitized(std::string& out, std::string_view s) {
  const std::size_t start = out.size();
  out.append(s);
  std::replace_if(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
                  [](char c) { return c == '\r' || c == '\n'; }, ' ');
}

// `<type><s>\r\n`, `s` sanitized.
void append_line(std::string& out, char type, std::string_view s) {
  out.push_back(type);
  append_sanitized(out, s);
  out.append("\r\n", 2);
}

// `<type><decimal v>\r\n`
template <typename Integer>
void append_number_line(std::string& out, char type, Integer v) {
  char buffer[32];
  buffer[0] = type;
  char* end = std::to_chars(buffer + 1, buffer + sizeof(buffer) - 2, v).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

}  // namespace

void append_simple(std::string& out, std::string_view s) { append_line(out, '+', s); }

void append_error(std::string& out, std::string_view msg) { append_line(out, '-', msg); }

void append_integer(std::string& out, std::int64_t v) { append_number_line(out, ':', v); }

void append_bulk(std::string& out, std::string_view payload) {
  append_number_line(out, '$', payload.size());
  out.append(payload);
  out.append("\r\n", 2);
}

void append_null(std::string& out) { out.append("$-1\r\n", 5); }

void append_array_header(std::string& out, std::size_t n) { append_number_line(out, '*', n); }

void append_command(std::string& out, std::span<const std::string_view> parts) {
  append_array_header(out, parts.size());
  for (std::string_view part : parts) append_bulk(out, part);
}

}  // namespace greenrpc::protocol
