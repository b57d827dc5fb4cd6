#include "greenrpc/server/command_registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "builtin_commands.hpp"

namespace greenrpc {

std::string CommandRegistry::lower(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

bool CommandRegistry::is_reserved(std::string_view name) {
  const std::string l = lower(name);
  return std::ranges::any_of(builtin_commands(), [&](const BuiltinCommand& b) { return b.reserved && b.name == l; });
}

void CommandRegistry::add(RegisteredCommand command) {
  const std::string& name = command.info->name;
  if (name.empty()) throw std::invalid_argument("greenrpc: a command name cannot be empty");
  if (name.size() > 128) throw std::invalid_argument("greenrpc: command name longer than 128 bytes: " + name);
  // Printable ASCII only: an element starting with a byte 0x80-0x8f is a request envelope.
  for (char c : name)
    if (c <= ' ' || c > '~' || c == '"' || c == '\'')
      throw std::invalid_argument("greenrpc: command name '" + name + "' must be printable ASCII without spaces or quotes");
  if (is_reserved(name))
    throw std::invalid_argument("greenrpc: '" + name +
                                "' is a reserved built-in (PING, QUIT, AUTH, HELLO and NONCE cannot be redefined)");
  std::string key = lower(name);
  if (commands_.count(key)) throw std::invalid_argument("greenrpc: command '" + name + "' is already registered");
  commands_.emplace(std::move(key), std::move(command));
}

const RegisteredCommand* CommandRegistry::find_lower(std::string_view lower_name) const {
  auto it = commands_.find(lower_name);
  return it == commands_.end() ? nullptr : &it->second;
}

const RegisteredCommand* CommandRegistry::find(std::string_view name) const { return find_lower(lower(name)); }

std::vector<const CommandInfo*> CommandRegistry::all() const {
  std::vector<const CommandInfo*> out;
  out.reserve(commands_.size());
  for (const auto& [key, cmd] : commands_) out.push_back(cmd.info.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

}  // namespace greenrpc
