#pragma once
// Coercion::pydantic's conversions (codec/coercion.hpp): a msgpack scalar of another type turned
// into the msgpack value pydantic 1 would have made of it, which the strict value_reader then
// reads as usual (ranges, names and errors unchanged).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <msgpack.hpp>

namespace greenrpc::codec::detail {

/// Python's repr() of a float: shortest round trip, fixed notation for decimal exponents -4 to
/// 16 with ".0" for whole numbers, otherwise "1e+16", "1.5e-05"; "nan", "inf", "-inf".
std::string python_float_repr(double value);

/// For an integer target whose range is [min, max] (its name: `type`): `in` as pydantic's
/// int_validator reads it, an integer object. Integers are returned as they are; values that do
/// not fit 64 bits throw the range error; what Python's int() refuses is returned unchanged (the
/// strict reader then refuses it with pydantic's words).
msgpack::object coerce_integer(const msgpack::object& in, std::int64_t min, std::uint64_t max, std::string_view type);
/// For a float target: a bool or a string float() reads, as a FLOAT64 object; else `in`.
msgpack::object coerce_float(const msgpack::object& in);
/// For a bool target: 0/1 and pydantic's strings, as a BOOLEAN object; else `in`.
msgpack::object coerce_bool(const msgpack::object& in);
/// For a string or bytes target: an integer, float or bool as Python's str() writes it; nullopt
/// when `in` is not one of those.
std::optional<std::string> coerce_text(const msgpack::object& in);

}  // namespace greenrpc::codec::detail
