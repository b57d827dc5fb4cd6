#pragma once
// msgpack::object_handle as a decoded type: any one msgpack value, copied into a zone the handle
// owns, so it outlives the bytes it came from (a handler may keep it). What a message handler
// taking a msgpack::object receives (App::message_handler).
//
// Memory: decode() unpacks the value's bytes once, straight into the handle's zone (payloads
// copied, no second deep copy), after a walk that counts the tree: at most max_tree_bytes
// (DecodeLimits, 64 MiB by default), else a DecodeError naming the bound. On a server the tree
// is also charged to the client memory budget before it is built (DecodeLimits::tree_memory),
// until the handler's call ends: a handle the handler keeps beyond its call (in connection state,
// say) is the handler's memory from then on, no longer counted.
#include <memory>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/detail/cursor_reader.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec {

template <>
struct value_reader<msgpack::object_handle> {
  static void read(const msgpack::object& in, msgpack::object_handle& out) { out = msgpack::clone(in); }
};

namespace detail {

template <>
struct cursor_reader<msgpack::object_handle> {
  static void read(MsgpackCursor& cursor, msgpack::object_handle& out) {
    const std::string_view bytes = cursor.skip_value();  // checked, allocation-free
    auto zone = std::make_unique<msgpack::zone>(decode_zone_chunk_size(bytes.size()));
    const msgpack::object value = unpack_value(*zone, bytes, cursor.limits(), Payloads::copied);
    out = msgpack::object_handle(value, std::move(zone));
  }
};

}  // namespace detail

template <>
struct type_name_of<msgpack::object_handle> {
  static std::string make() { return "any"; }
};

template <>
struct type_name_of<msgpack::object> {
  static std::string make() { return "any"; }
};

}  // namespace greenrpc::codec
