#pragma once
// The user commands of an App, looked up case-insensitively by name.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "greenrpc/server/command_info.hpp"
#include "greenrpc/server/handler.hpp"

namespace greenrpc {

struct RegisteredCommand {
  std::shared_ptr<const CommandInfo> info;
  Handler handler;
};

// Hashes std::string keys so that a std::string_view finds them without a copy.
struct TransparentStringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class CommandRegistry {
 public:
  // Throws std::invalid_argument for an empty or duplicate name, a name with whitespace, or a
  // reserved built-in (PING, QUIT, AUTH, HELLO, NONCE). Other built-ins (ECHO, INFO...) may be shadowed.
  void add(RegisteredCommand command);
  // `lower_name` must already be lower-case.
  const RegisteredCommand* find_lower(std::string_view lower_name) const;
  const RegisteredCommand* find(std::string_view name) const;
  std::vector<const CommandInfo*> all() const;
  std::size_t size() const noexcept { return commands_.size(); }

  static bool is_reserved(std::string_view name);
  static std::string lower(std::string_view name);

 private:
  std::unordered_map<std::string, RegisteredCommand, TransparentStringHash, std::equal_to<>> commands_;
};

}  // namespace greenrpc
