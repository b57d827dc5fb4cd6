#pragma once
// `greenrpc commands` and `greenrpc describe`: the server's COMMAND DOCS reply, read and shown.
//
// COMMAND DOCS answers a flattened map, name then a flattened map of fields: summary, since,
// group ("greenrpc" for user commands, "connection" for the built-ins) and, for user commands,
// arguments (each a flattened map: name, type, display_text "msgpack <type>").
#include <optional>
#include <string>
#include <vector>

#include "greenrpc/protocol/reply_parser.hpp"
#include "json_msgpack.hpp"

namespace greenrpc::cli {

struct CommandDoc {
  std::string name;
  Json fields;  // an object: the reply's fields, in its order (arguments as an array of objects)

  bool is_user_command() const;  // group "greenrpc"
  // The argument types as COMMAND DOCS writes them ("msgpack int" -> "int").
  std::string signature() const;  // add(a: int, b: NumberInput) -> int
  // A field naming the result type when the server sends one; else read from the default
  // summary "greenrpc command returning <type>".
  std::optional<std::string> return_type() const;
  std::string summary() const;
};

// Throws std::runtime_error when the reply is not shaped like COMMAND DOCS.
std::vector<CommandDoc> parse_command_docs(const protocol::RespValue& reply);

// One line per command: its signature, then its summary unless it is the default one.
std::string render_command_list(const std::vector<CommandDoc>& docs);
// Every field of one command, arguments one per line.
std::string render_command_doc(const CommandDoc& doc);

// {"name": {fields...}, ...}
Json command_list_json(const std::vector<CommandDoc>& docs);
// {"name": "...", fields...}
Json command_doc_json(const CommandDoc& doc);

}  // namespace greenrpc::cli
