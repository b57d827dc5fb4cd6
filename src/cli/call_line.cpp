#include "call_line.hpp"

#include <stdexcept>

namespace greenrpc::cli {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// The end of the JSON value starting at `i`: the first whitespace at bracket depth 0 outside a
// string.
std::size_t value_end(std::string_view s, std::size_t i, std::size_t index) {
  int depth = 0;
  bool in_string = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if (c == ']' || c == '}') --depth;
    else if (depth <= 0 && is_space(c)) break;
  }
  if (in_string) throw std::invalid_argument("argument " + std::to_string(index) + ": unterminated string");
  if (depth > 0) throw std::invalid_argument("argument " + std::to_string(index) + ": unclosed [ or {");
  return i;
}

}  // namespace

bool is_blank_or_comment(std::string_view line) {
  const std::size_t i = skip_space(line, 0);
  return i == line.size() || line[i] == '#';
}

CallLine split_call_line(std::string_view line) {
  CallLine out;
  std::size_t i = skip_space(line, 0);
  std::size_t end = i;
  while (end < line.size() && !is_space(line[end])) ++end;
  out.command.assign(line.substr(i, end - i));
  if (out.command.empty()) throw std::invalid_argument("no command name");
  i = skip_space(line, end);
  while (i < line.size()) {
    end = value_end(line, i, out.arguments.size() + 1);
    out.arguments.emplace_back(line.substr(i, end - i));
    i = skip_space(line, end);
  }
  return out;
}

}  // namespace greenrpc::cli
