#include "greenrpc/server/handler.hpp"

#include "greenrpc/runtime/log.hpp"

namespace greenrpc::detail {
namespace {

// pydantic's location element for a codec path segment.
PathElement element_of(const codec::PathSegment& segment) {
  switch (segment.kind) {
    case codec::PathSegment::Kind::item: return segment.number;
    case codec::PathSegment::Kind::field: return segment.text;
    case codec::PathSegment::Kind::key:
      if (segment.numeric) return segment.number;
      return segment.text;
    case codec::PathSegment::Kind::invalid_key: return std::string("__key__");
  }
  return segment.text;
}

// Tino's location: the literal "command", the argument's name (its wire index when the command
// declares no names), then the path inside the argument (validation failures only: Tino names
// no more than the argument for INVALID_MSGPACK).
ErrorPath location(const CommandInfo& info, std::size_t index, const codec::DecodeError& error) {
  ErrorPath path{std::string("command")};
  if (index < info.arg_names.size())
    path.emplace_back(info.arg_names[index]);
  else
    path.emplace_back(static_cast<std::int64_t>(index));
  if (error.kind() == codec::DecodeError::Kind::validation)
    for (const codec::PathSegment& segment : error.path()) path.push_back(element_of(segment));
  return path;
}

}  // namespace

// Tino answers a bare NUM_ARG_MISMATCH; what a person needs goes to the debug log.
void reply_arity_mismatch(HandlerCall& call, const CommandInfo& info) {
  call.reply.error(error_code::num_arg_mismatch, std::nullopt);
  GREENRPC_LOG_FIELDS(debug, "wrong number of arguments",
                      {{"conn", call.conn.id}, {"command", info.name}, {"expected", info.arity},
                       {"received", call.args.size()}});
}

void reply_permission_denied(HandlerCall& call) { call.reply.error(error_code::permission_denied, std::nullopt); }

void reply_decode_failure(HandlerCall& call, const CommandInfo& info, std::size_t index,
                          const codec::DecodeError& error) {
  const ErrorPath path = location(info, index, error);
  const bool invalid_msgpack = error.kind() == codec::DecodeError::Kind::invalid_msgpack;
  call.reply.error(ErrorReport{.code = invalid_msgpack ? error_code::invalid_msgpack : error_code::validation_error,
                               .message = error.msg(),
                               .location = &path,
                               .type = invalid_msgpack ? std::string_view() : std::string_view(error.type())});
  GREENRPC_LOG_FIELDS(debug, "argument refused",
                      {{"conn", call.conn.id}, {"command", info.name}, {"argument", index}, {"detail", error.message()}});
}

void reply_error(HandlerCall& call, std::string_view code, std::string_view message) {
  call.reply.error(code, message);
}

void reply_result(HandlerCall& call) { call.reply.ok_bytes(call.scratch); }

}  // namespace greenrpc::detail
