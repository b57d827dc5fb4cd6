#pragma once
// Throwers for validation failures, shared by all value readers (and usable by
// custom value_reader specializations) so messages stay uniform.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <msgpack.hpp>

namespace greenrpc::codec {

/// `received` has the wrong msgpack type. Reason: "value is required, got nil"
/// for nil, else "value is not a valid <expected_kind>" (e.g. "integer").
[[noreturn]] void throw_type_mismatch(const msgpack::object& received, std::string_view expected_kind,
                                      std::string_view expected_type);

/// An integer outside [min, max]:
/// "integer out of range for uint8: got 300, allowed 0..255".
[[noreturn]] void throw_integer_out_of_range(const msgpack::object& received,
                                             std::string_view expected_type, std::int64_t min,
                                             std::uint64_t max);

/// A finite number too large for the target floating type.
[[noreturn]] void throw_number_out_of_range(double received, std::string_view expected_type);

/// A list/tuple/fixed array of the wrong length: "expected 3 items, got 2".
[[noreturn]] void throw_length_mismatch(std::size_t expected_length, std::size_t received_length,
                                        std::string_view expected_type);

/// A struct field absent from the input map: "field 'x': field required".
[[noreturn]] void throw_missing_field(std::string_view field, std::string_view expected_type);

}  // namespace greenrpc::codec
