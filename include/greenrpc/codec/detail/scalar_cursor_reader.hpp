#pragma once
// cursor_reader for scalars (bool, integers, enums, floats, std::string, Bytes): the header is
// the whole value, so the scalar value_reader validates it directly (strings are copied once,
// from the input into the result).

#include <concepts>
#include <string>
#include <type_traits>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/detail/cursor_reader.hpp"
#include "greenrpc/codec/type_categories.hpp"

namespace greenrpc::codec::detail {

/// The types scalar_readers.hpp reads.
template <typename T>
concept scalar_value = std::is_same_v<T, bool> || integer_type<T> || std::is_enum_v<T> || std::floating_point<T> ||
                       std::is_same_v<T, std::string> || std::is_same_v<T, greenrpc::Bytes>;

template <typename T>
    requires scalar_value<T> && has_standard_value_reader<T>
struct cursor_reader<T> {
    static void read(MsgpackCursor& cursor, T& out) { value_reader<T>::read(cursor.next(), out); }
};

}  // namespace greenrpc::codec::detail
