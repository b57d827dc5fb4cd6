#pragma once
// One line of `greenrpc call --pipe` input: a command name, then its arguments as JSON values
// separated by whitespace, e.g.
//   add 1 {"value": 2}
//   echo "two words"
// A value ends at whitespace outside strings and outside brackets, so objects, arrays and
// strings may hold spaces. Each value is checked later by parse_json_argument().
#include <string>
#include <string_view>
#include <vector>

namespace greenrpc::cli {

struct CallLine {
  std::string command;
  std::vector<std::string> arguments;  // JSON texts
};

// Throws std::invalid_argument for an unterminated string or unbalanced brackets.
CallLine split_call_line(std::string_view line);

// Nothing to send: only whitespace, or a comment starting with '#'.
bool is_blank_or_comment(std::string_view line);

}  // namespace greenrpc::cli
