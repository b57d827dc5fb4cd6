#pragma once
// Throwers for validation failures, shared by all value readers (and usable by
// custom value_reader specializations) so messages stay uniform: each throws a
// DecodeError whose msg() and type() are pydantic 1's for the same failure.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <msgpack.hpp>

namespace greenrpc::codec {

/// `received` has the wrong msgpack type for a value of `expected_kind`: one of
/// "integer", "number" (float), "boolean", "string", "bytes", "list", "set",
/// "tuple", "dict" (maps and map-shaped structs), "enumeration member"; any
/// other kind is named as an arbitrary type. nil gets "none is not an allowed
/// value" (type_error.none.not_allowed) whatever was expected.
[[noreturn]] void throw_type_mismatch(const msgpack::object& received, std::string_view expected_kind,
                                      std::string_view expected_type);

/// An integer outside [min, max]: "ensure this value is less than or equal to 255"
/// (value_error.number.not_le) or "... greater than or equal to 0" (not_ge).
[[noreturn]] void throw_integer_out_of_range(const msgpack::object& received,
                                             std::string_view expected_type, std::int64_t min,
                                             std::uint64_t max);

/// The same for an integer written out (`below`: under min rather than over max), such as one
/// beyond 64 bits that Coercion::pydantic read from a string.
[[noreturn]] void throw_integer_out_of_range(bool below, std::string_view value, std::string_view expected_type,
                                             std::int64_t min, std::uint64_t max);

/// A finite number too large for the target floating type (not_le / not_ge of its limit).
[[noreturn]] void throw_number_out_of_range(double received, std::string_view expected_type);

/// A fixed-size list (std::array) of the wrong length: "ensure this value has at
/// least 3 items" (value_error.list.min_items) or "at most" (max_items).
[[noreturn]] void throw_length_mismatch(std::size_t expected_length, std::size_t received_length,
                                        std::string_view expected_type);

/// A tuple of the wrong length: "wrong tuple length 2, expected 3" (value_error.tuple.length).
[[noreturn]] void throw_tuple_length_mismatch(std::size_t expected_length, std::size_t received_length,
                                              std::string_view expected_type);

/// A struct field absent from the input: "field required" (value_error.missing) at `segment`.
[[noreturn]] void throw_missing_field(std::string_view field, std::string_view expected_type);
[[noreturn]] void throw_missing_item(std::size_t position, std::string_view expected_type);

/// A map-shaped struct's key that is not a string: "str type expected" at that key itself.
[[noreturn]] void throw_field_name_not_str(const msgpack::object& key, std::size_t position);

}  // namespace greenrpc::codec
