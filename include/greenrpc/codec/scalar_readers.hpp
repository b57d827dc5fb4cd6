#pragma once
// value_reader specializations for scalars: bool, integers, enums, floats,
// std::string and Bytes. All are strict: no cross-type coercion except
// integer -> floating point and BIN <-> STR for string/bytes.

#include <cfloat>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <msgpack.hpp>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/type_categories.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/validation_failures.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec {

namespace detail {

/// An integer of type I read from a msgpack integer, range checked. Errors name
/// `Named` (I itself, or the enum whose underlying type I is).
template <typename I, typename Named = I>
I read_integer(const msgpack::object& in) {
    using limits = std::numeric_limits<I>;
    if (in.type == msgpack::type::POSITIVE_INTEGER) {
        if (in.via.u64 <= static_cast<std::uint64_t>(limits::max())) return static_cast<I>(in.via.u64);
    } else if (in.type == msgpack::type::NEGATIVE_INTEGER) {
        if constexpr (std::is_signed_v<I>) {
            if (in.via.i64 >= static_cast<std::int64_t>(limits::min())) return static_cast<I>(in.via.i64);
        }
    } else {
        throw_type_mismatch(in, std::is_enum_v<Named> ? "enumeration member" : "integer", type_name<Named>());
    }
    if constexpr (std::is_enum_v<Named>) throw_type_mismatch(in, "enumeration member", type_name<Named>());
    throw_integer_out_of_range(in, type_name<Named>(), static_cast<std::int64_t>(limits::min()),
                               static_cast<std::uint64_t>(limits::max()));
}

}  // namespace detail

/// bool: only from msgpack true/false.
template <>
struct value_reader<bool> : detail::standard_value_reader {
    static void read(const msgpack::object& in, bool& out) {
        if (in.type != msgpack::type::BOOLEAN) throw_type_mismatch(in, "boolean", "bool");
        out = in.via.boolean;
    }
};

/// Integers of every width: only from msgpack integers that fit (floats rejected).
template <integer_type T>
struct value_reader<T> : detail::standard_value_reader {
    static void read(const msgpack::object& in, T& out) { out = detail::read_integer<T>(in); }
};

/// Enums: from an integer fitting the underlying type (enumerators are not checked).
template <typename T>
    requires std::is_enum_v<T>
struct value_reader<T> : detail::standard_value_reader {
    static void read(const msgpack::object& in, T& out) {
        out = static_cast<T>(detail::read_integer<std::underlying_type_t<T>, T>(in));
    }
};

/// float/double: from msgpack floats or integers; a finite value beyond the
/// target's range is rejected rather than turned into infinity.
template <std::floating_point T>
struct value_reader<T> : detail::standard_value_reader {
    static void read(const msgpack::object& in, T& out) {
        double value;
        switch (in.type) {
            case msgpack::type::FLOAT32:
            case msgpack::type::FLOAT64: value = in.via.f64; break;
            case msgpack::type::POSITIVE_INTEGER: value = static_cast<double>(in.via.u64); break;
            case msgpack::type::NEGATIVE_INTEGER: value = static_cast<double>(in.via.i64); break;
            default: throw_type_mismatch(in, "number", type_name<T>());
        }
        if constexpr (std::numeric_limits<T>::max() < std::numeric_limits<double>::max()) {
            if (std::isfinite(value) && std::fabs(value) > static_cast<double>(std::numeric_limits<T>::max())) {
                throw_number_out_of_range(value, type_name<T>());
            }
        }
        out = static_cast<T>(value);
    }
};

/// std::string: from STR, or BIN (bytes are not checked for UTF-8).
template <>
struct value_reader<std::string> : detail::standard_value_reader {
    static void read(const msgpack::object& in, std::string& out) {
        if (in.type == msgpack::type::STR) {
            out.assign(in.via.str.ptr, in.via.str.size);
        } else if (in.type == msgpack::type::BIN) {
            out.assign(in.via.bin.ptr, in.via.bin.size);
        } else {
            throw_type_mismatch(in, "string", "str");
        }
    }
};

/// Bytes: from BIN, or STR.
template <>
struct value_reader<greenrpc::Bytes> : detail::standard_value_reader {
    static void read(const msgpack::object& in, greenrpc::Bytes& out) {
        if (in.type == msgpack::type::BIN) {
            out.data.assign(in.via.bin.ptr, in.via.bin.size);
        } else if (in.type == msgpack::type::STR) {
            out.data.assign(in.via.str.ptr, in.via.str.size);
        } else {
            throw_type_mismatch(in, "bytes", "bytes");
        }
    }
};

}  // namespace greenrpc::codec
