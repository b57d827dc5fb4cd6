#pragma once
// cursor_reader for scalars (bool, integers, enums, floats, std::string, Bytes): the header is
// the whole value, so the scalar value_reader validates it directly (strings are copied once,
// from the input into the result).

#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/coercion.hpp"
#include "greenrpc/codec/detail/cursor_reader.hpp"
#include "greenrpc/codec/detail/pydantic_coercion.hpp"
#include "greenrpc/codec/type_categories.hpp"

namespace greenrpc::codec::detail {

/// The types scalar_readers.hpp reads.
template <typename T>
concept scalar_value = std::is_same_v<T, bool> || integer_type<T> || std::is_enum_v<T> || std::floating_point<T> ||
                       std::is_same_v<T, std::string> || std::is_same_v<T, greenrpc::Bytes>;

template <typename T>
    requires scalar_value<T> && has_standard_value_reader<T>
struct cursor_reader<T> {
    static void read(MsgpackCursor& cursor, T& out) {
        const msgpack::object in = cursor.next();
        if (cursor.limits().coercion == Coercion::pydantic) [[unlikely]]
            return read_coerced(in, out);
        value_reader<T>::read(in, out);
    }

private:
    // Coercion::pydantic: a value of another msgpack type becomes what pydantic 1 makes of it
    // first; the strict reader then checks ranges and refuses the rest in pydantic's words.
    static void read_coerced(const msgpack::object& in, T& out) {
        if constexpr (std::is_same_v<T, bool>) {
            value_reader<T>::read(in.type == msgpack::type::BOOLEAN ? in : coerce_bool(in), out);
        } else if constexpr (integer_type<T>) {
            if (in.type == msgpack::type::POSITIVE_INTEGER || in.type == msgpack::type::NEGATIVE_INTEGER)
                return value_reader<T>::read(in, out);
            using limits = std::numeric_limits<T>;
            value_reader<T>::read(coerce_integer(in, static_cast<std::int64_t>(limits::min()),
                                                 static_cast<std::uint64_t>(limits::max()), type_name<T>()),
                                  out);
        } else if constexpr (std::floating_point<T>) {
            value_reader<T>::read(coerce_float(in), out);
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (auto text = coerce_text(in)) return void(out = std::move(*text));
            value_reader<T>::read(in, out);
        } else if constexpr (std::is_same_v<T, greenrpc::Bytes>) {
            if (auto text = coerce_text(in)) return void(out.data.assign(text->begin(), text->end()));
            value_reader<T>::read(in, out);
        } else {  // enums: from integers only, as in strict mode
            value_reader<T>::read(in, out);
        }
    }
};

}  // namespace greenrpc::codec::detail
