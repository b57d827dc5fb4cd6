#pragma once
// Turns a reply into the caller's result type.
#include <string>
#include <type_traits>

#include "greenrpc/client/errors.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/protocol/reply_parser.hpp"

namespace greenrpc::detail {

template <class T>
T decode_reply(const protocol::RespValue& reply, const codec::DecodeLimits& limits) {
  if constexpr (std::is_void_v<T>) {
    return;
  } else {
    if (reply.type != protocol::RespValue::Type::bulk_string)
      throw ReplyTypeError("expected a msgpack bulk-string reply");
    try {
      return codec::decode<T>(reply.str, limits);
    } catch (const codec::DecodeError& e) {
      throw ReplyTypeError(std::string("cannot decode the reply: ") + e.what());
    }
  }
}

}  // namespace greenrpc::detail
