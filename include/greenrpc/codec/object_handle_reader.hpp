#pragma once
// msgpack::object_handle as a decoded type: any one msgpack value, deep-copied into a zone the
// handle owns, so it outlives the bytes it came from (a handler may keep it). What a message
// handler taking a msgpack::object receives (App::message_handler).
#include <string>

#include <msgpack.hpp>

#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec {

template <>
struct value_reader<msgpack::object_handle> {
  static void read(const msgpack::object& in, msgpack::object_handle& out) { out = msgpack::clone(in); }
};

template <>
struct type_name_of<msgpack::object_handle> {
  static std::string make() { return "any"; }
};

template <>
struct type_name_of<msgpack::object> {
  static std::string make() { return "any"; }
};

}  // namespace greenrpc::codec
