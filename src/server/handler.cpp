#include "greenrpc/server/handler.hpp"


namespace greenrpc::detail {
namespace {

// JSON string body: quotes, backslashes and control characters escaped, and spaces too
// (as \u0020) so that a location is always one word of the error line.
void append_json_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c <= 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// ["add","b"] when the command has argument names, else ["add",1].
std::string location(const CommandInfo& info, std::size_t index) {
  std::string loc = "[";
  append_json_string(loc, info.name);
  loc += ',';
  if (index < info.arg_names.size())
    append_json_string(loc, info.arg_names[index]);
  else
    loc += std::to_string(index);
  loc += ']';
  return loc;
}

}  // namespace

void reply_arity_mismatch(HandlerCall& call, const CommandInfo& info) {
  std::string msg = info.name + " takes " + std::to_string(info.arity) + " argument" + (info.arity == 1 ? "" : "s") +
         ", got " + std::to_string(call.args.size());
  call.reply.error(error_code::num_arg_mismatch, msg);
}

void reply_permission_denied(HandlerCall& call) {
  call.reply.error(error_code::permission_denied, "authentication required");
}

void reply_decode_failure(HandlerCall& call, const CommandInfo& info, std::size_t index, bool invalid_msgpack,
                          const std::string& message, const std::string& type) {
  std::string msg = location(info, index);
  msg += ' ';
  msg += message;
  if (!invalid_msgpack) {
    msg += ' ';
    // The type is the last word of the line: drop spaces ("dict[str, int]" → "dict[str,int]").
    if (type.empty()) msg += "value";
    for (char c : type)
      if (c != ' ') msg += c;
  }
  call.reply.error(invalid_msgpack ? error_code::invalid_msgpack : error_code::validation_error, msg);
}

void reply_error(HandlerCall& call, std::string_view code, std::string_view message) {
  call.reply.error(code, message);
}

void reply_result(HandlerCall& call) { call.reply.ok_bytes(call.scratch); }

}  // namespace greenrpc::detail
