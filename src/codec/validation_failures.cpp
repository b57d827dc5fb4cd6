// Validation failure throwers.

#include "greenrpc/codec/validation_failures.hpp"

#include <charconv>
#include <string>

#include "greenrpc/codec/decode_error.hpp"
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

}  // namespace

void throw_type_mismatch(const msgpack::object& received, std::string_view expected_kind,
                         std::string_view expected_type) {
    std::string reason;
    if (received.type == msgpack::type::NIL) {
        reason = "value is required, got nil";
    } else {
        reason = "value is not a valid ";
        reason += expected_kind;
    }
    throw DecodeError::validation(std::move(reason), expected_type, received_type_name(received));
}

void throw_integer_out_of_range(const msgpack::object& received, std::string_view expected_type,
                                std::int64_t min, std::uint64_t max) {
    std::string reason = "integer out of range for ";
    reason += expected_type;
    reason += ": got ";
    reason += received.type == msgpack::type::NEGATIVE_INTEGER ? to_text(received.via.i64)
                                                                : to_text(received.via.u64);
    reason += ", allowed ";
    reason += to_text(min);
    reason += "..";
    reason += to_text(max);
    throw DecodeError::validation(std::move(reason), expected_type, "int");
}

void throw_number_out_of_range(double received, std::string_view expected_type) {
    std::string reason = "number out of range for ";
    reason += expected_type;
    reason += ": got ";
    reason += to_text(received);
    throw DecodeError::validation(std::move(reason), expected_type, "float");
}

void throw_length_mismatch(std::size_t expected_length, std::size_t received_length,
                           std::string_view expected_type) {
    std::string reason = "expected ";
    reason += to_text(expected_length);
    reason += expected_length == 1 ? " item, got " : " items, got ";
    reason += to_text(received_length);
    throw DecodeError::validation(std::move(reason), expected_type, "list");
}

void throw_missing_field(std::string_view field, std::string_view expected_type) {
    DecodeError error = DecodeError::validation("field required", expected_type, "missing");
    error.prepend_location(field_location(field));
    throw error;
}

}  // namespace greenrpc::codec
