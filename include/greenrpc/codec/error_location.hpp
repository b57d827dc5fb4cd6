#pragma once
// Path segments naming where inside a decoded value an error occurred (DecodeError::path()).

#include <cstddef>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/decode_error.hpp"

namespace greenrpc::codec {

/// Element `index` (0-based) of a list/array/set/tuple.
PathSegment item_location(std::size_t index);

/// Member `name` of a struct.
PathSegment field_location(std::string_view name);

/// The value stored under a map key: integer keys by value, string and binary keys by their
/// bytes (cut to 128 bytes), other keys by position ("#3").
PathSegment key_location(const msgpack::object& key, std::size_t position);

/// The map key itself failed validation.
PathSegment invalid_key_location(const msgpack::object& key, std::size_t position);

/// A segment for people: "item 2", "field 'value'", "key 'name'", "key 7", "invalid key 'x'".
std::string describe(const PathSegment& segment);

}  // namespace greenrpc::codec
