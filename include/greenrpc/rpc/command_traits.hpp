#pragma once
// What a command declares about itself beyond its signature, e.g.
//   greenrpc::Command<int(int)> bump{"bump", {"n"}, {.idempotent = true}};
#include <string>

namespace greenrpc {

// Per-command properties beyond the signature.
struct CommandTraits {
  // Safe to run twice (lets a client retry it after a connection dies mid-call).
  bool idempotent = false;
  // One line for COMMAND DOCS. The explicit `{}` keeps `CommandTraits{.idempotent = true}` free of
  // gcc's -Wmissing-field-initializers (it warns for members without a default member initializer).
  std::string summary{};
};

}  // namespace greenrpc
