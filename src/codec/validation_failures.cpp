// Validation failure throwers: pydantic 1's messages and error types.

#include "greenrpc/codec/validation_failures.hpp"

#include <charconv>
#include <limits>
#include <string>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/detail/pydantic_coercion.hpp"
#include "greenrpc/codec/error_location.hpp"
#include "greenrpc/codec/type_name.hpp"

namespace greenrpc::codec {

namespace {

template <typename Number>
std::string to_text(Number value) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

struct PydanticError {
    std::string_view kind, msg, type;
};

// pydantic 1.10's messages for a value of the wrong type, by what was expected.
constexpr PydanticError type_errors[] = {
    {"integer", "value is not a valid integer", "type_error.integer"},
    {"number", "value is not a valid float", "type_error.float"},
    {"boolean", "value could not be parsed to a boolean", "type_error.bool"},
    {"string", "str type expected", "type_error.str"},
    {"bytes", "byte type expected", "type_error.bytes"},
    {"list", "value is not a valid list", "type_error.list"},
    {"set", "value is not a valid set", "type_error.set"},
    {"tuple", "value is not a valid tuple", "type_error.tuple"},
    {"dict", "value is not a valid dict", "type_error.dict"},
    {"enumeration member", "value is not a valid enumeration member", "type_error.enum"},
};

std::string got(std::string_view expected_type, const std::string& received) {
    std::string out(expected_type);
    out.append(", got ").append(received);
    return out;
}

}  // namespace

void throw_type_mismatch(const msgpack::object& received, std::string_view expected_kind,
                         std::string_view expected_type) {
    const std::string_view received_type = received_type_name(received);
    const std::string detail = got(expected_type, std::string(received_type));
    if (received.type == msgpack::type::NIL)
        throw DecodeError::validation("none is not an allowed value", "type_error.none.not_allowed", expected_type,
                                      received_type, detail);
    for (const PydanticError& e : type_errors)
        if (e.kind == expected_kind)
            throw DecodeError::validation(std::string(e.msg), e.type, expected_type, received_type, detail);
    // A type pydantic would hold as arbitrary (a user's value_reader, msgpack-cxx's adaptors).
    std::string msg = "instance of ";
    msg.append(expected_kind).append(" expected");
    throw DecodeError::validation(std::move(msg), "type_error.arbitrary_type", expected_type, received_type, detail);
}

void throw_integer_out_of_range(const msgpack::object& received, std::string_view expected_type,
                                std::int64_t min, std::uint64_t max) {
    const bool below = received.type == msgpack::type::NEGATIVE_INTEGER && received.via.i64 < min;
    const std::string value =
        received.type == msgpack::type::NEGATIVE_INTEGER ? to_text(received.via.i64) : to_text(received.via.u64);
    throw_integer_out_of_range(below, value, expected_type, min, max);
}

void throw_integer_out_of_range(bool below, std::string_view value, std::string_view expected_type, std::int64_t min,
                                std::uint64_t max) {
    std::string detail = got(expected_type, std::string(value));
    if (below)
        throw DecodeError::validation("ensure this value is greater than or equal to " + to_text(min),
                                      "value_error.number.not_ge", expected_type, "int", std::move(detail));
    throw DecodeError::validation("ensure this value is less than or equal to " + to_text(max),
                                  "value_error.number.not_le", expected_type, "int", std::move(detail));
}

void throw_number_out_of_range(double received, std::string_view expected_type) {
    // The limit as Python's repr() writes a float: 3.4028234663852886e+38.
    const double limit = std::numeric_limits<float>::max();
    std::string detail = got(expected_type, detail::python_float_repr(received));
    if (received < 0)
        throw DecodeError::validation("ensure this value is greater than or equal to " + detail::python_float_repr(-limit),
                                      "value_error.number.not_ge", expected_type, "float", std::move(detail));
    throw DecodeError::validation("ensure this value is less than or equal to " + detail::python_float_repr(limit),
                                  "value_error.number.not_le", expected_type, "float", std::move(detail));
}

void throw_length_mismatch(std::size_t expected_length, std::size_t received_length,
                           std::string_view expected_type) {
    std::string detail = got(expected_type, to_text(received_length) + " items");
    if (received_length < expected_length)
        throw DecodeError::validation("ensure this value has at least " + to_text(expected_length) + " items",
                                      "value_error.list.min_items", expected_type, "list", std::move(detail));
    throw DecodeError::validation("ensure this value has at most " + to_text(expected_length) + " items",
                                  "value_error.list.max_items", expected_type, "list", std::move(detail));
}

void throw_tuple_length_mismatch(std::size_t expected_length, std::size_t received_length,
                                 std::string_view expected_type) {
    throw DecodeError::validation(
        "wrong tuple length " + to_text(received_length) + ", expected " + to_text(expected_length),
        "value_error.tuple.length", expected_type, "list");
}

void throw_missing_field(std::string_view field, std::string_view expected_type) {
    DecodeError error = DecodeError::validation("field required", "value_error.missing", expected_type, "missing");
    error.prepend_location(field_location(field));
    throw error;
}

void throw_missing_item(std::size_t position, std::string_view expected_type) {
    DecodeError error = DecodeError::validation("field required", "value_error.missing", expected_type, "missing");
    error.prepend_location(item_location(position));
    throw error;
}

void throw_field_name_not_str(const msgpack::object& key, std::size_t position) {
    const std::string_view received = received_type_name(key);
    DecodeError error = DecodeError::validation("str type expected", "type_error.str", "str", received,
                                                "field names are strings, got " + std::string(received));
    error.prepend_location(invalid_key_location(key, position));
    throw error;
}

}  // namespace greenrpc::codec
