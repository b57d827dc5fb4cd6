#pragma once
// What the registry knows about a user command: its name, arguments and traits.
#include <cstddef>
#include <string>
#include <vector>

#include "greenrpc/rpc/command.hpp"

namespace greenrpc {

struct CommandInfo {
  std::string name;                     // as registered
  std::vector<std::string> arg_names;   // empty: locations use positions
  std::vector<std::string> arg_types;   // wire arguments' type names, for COMMAND DOCS
  std::string result_type;
  std::size_t arity = 0;                // wire arguments (special arguments excluded)
  CommandTraits traits;
};

}  // namespace greenrpc
