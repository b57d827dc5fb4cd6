#pragma once
// msgpack::object_handle as a decoded type: any one msgpack value, copied into a zone the handle
// owns, so it outlives the bytes it came from (a handler may keep it). What a message handler
// taking a msgpack::object receives (App::message_handler).
//
// Memory: decode() unpacks the value's bytes once, straight into the handle's zone (strings
// copied, no second deep copy): at most ~16 bytes of tree per input byte (32 per map entry), as
// unpack_value's clamping bounds it, plus the strings.
#include <algorithm>
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
    const DecodeLimits& limits = cursor.limits();
    const std::size_t size = bytes.size();
    const msgpack::unpack_limit limit(std::min(limits.max_array, size), std::min(limits.max_map, size / 2),
                                      limits.max_str, limits.max_bin, limits.max_ext, limits.max_depth);
    std::size_t offset = 0;
    msgpack::object value;
    try {
      value = msgpack::unpack(*zone, bytes.data(), size, offset, nullptr, nullptr, limit);
    } catch (const msgpack::unpack_error&) {  // not after skip_value's check
      throw MalformedInput{};
    }
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
