#pragma once
// Path segments naming where inside a decoded value an error occurred.

#include <cstddef>
#include <string>
#include <string_view>

#include <msgpack.hpp>

namespace greenrpc::codec {

/// "item 2": element of a list/array/set/tuple (0-based).
std::string item_location(std::size_t index);

/// "field 'value'": member of a struct.
std::string field_location(std::string_view name);

/// "key 'name'" / "key 7": the value stored under a map key. Long or binary
/// keys are shortened and escaped; keys that are neither strings nor integers
/// are named by position ("key #3").
std::string key_location(const msgpack::object& key, std::size_t position);

/// "invalid key 'name'": the map key itself failed validation.
std::string invalid_key_location(const msgpack::object& key, std::size_t position);

}  // namespace greenrpc::codec
