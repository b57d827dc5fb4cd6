#pragma once
// What went wrong with a request, as the dispatcher, handlers and built-ins hand it to a
// ReplyEncoder: no wire bytes here (a RESP encoder writes Tino's error line, docs/protocol.md §3;
// another wire writes its own).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace greenrpc {

// One step of an error's location: a name (the literal "command", an argument, a struct field, a
// string map key, pydantic's "__key__") or an index (a list item, an integer map key).
using PathElement = std::variant<std::string, std::int64_t>;
// Where inside a request the fault is, outermost first: ["command", "b", "value"].
using ErrorPath = std::vector<PathElement>;

// The most bytes of a message (an exception's what(), a name a peer sent) an error line carries:
// longer text is cut at a UTF-8 character boundary and ends in "...". A handler that echoes a
// 64 MiB argument in its exception does not make a 64 MiB (JSON-escaped: up to 6x) reply.
inline constexpr std::size_t kMaxErrorMessageBytes = 4096;

struct ErrorReport {
  std::string_view code;                        // one word: error_codes.hpp, or a handler's own
  std::optional<std::string_view> message = {};  // for people; none: a bare code (Tino's NUM_ARG_MISMATCH)
  const ErrorPath* location = nullptr;  // INVALID_MSGPACK, VALIDATION_ERROR: which argument, and where in it
  std::string_view type = {};         // VALIDATION_ERROR: pydantic's error type ("type_error.integer")
  // Free text after the code, as Redis writes its own errors: the built-ins imitating Redis
  // (ERR, NOPROTO) and Tino's INVALID_COMMAND <name>. Otherwise every value is JSON.
  bool free_text = false;
};

}  // namespace greenrpc
