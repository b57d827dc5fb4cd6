#pragma once
// DecodeError: why a msgpack value could not be decoded into a C++ type.

#include <exception>
#include <string>
#include <string_view>

namespace greenrpc::codec {

/// Thrown by decode()/read_value().
///
/// - Kind::invalid_msgpack: the bytes are not exactly one well-formed msgpack
///   value (empty, truncated, malformed, trailing bytes, or a DecodeLimits
///   bound exceeded; the message names the bound).
/// - Kind::validation: well-formed msgpack of the wrong type or range for the
///   target C++ type. expected_type() is its short name (see type_name()),
///   received_type() the short name of what arrived ("str", "none", ...).
///
/// message() is "<location>: <reason>" where location is the path to the
/// offending value inside the decoded one, outermost first and comma separated
/// ("field 'items', item 2: value is not a valid integer"), or just the reason
/// when the top-level value itself is at fault. what() returns message().
class DecodeError : public std::exception {
public:
    enum class Kind { invalid_msgpack, validation };

    DecodeError(Kind kind, std::string reason, std::string expected_type = {},
                std::string received_type = {});

    /// A validation failure of the value itself (no location yet).
    static DecodeError validation(std::string reason, std::string_view expected_type,
                                  std::string_view received_type);
    /// Input that is not one well-formed msgpack value.
    static DecodeError invalid_msgpack(std::string reason);

    [[nodiscard]] Kind kind() const noexcept { return kind_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    [[nodiscard]] const std::string& location() const noexcept { return location_; }
    [[nodiscard]] const std::string& expected_type() const noexcept { return expected_type_; }
    [[nodiscard]] const std::string& received_type() const noexcept { return received_type_; }
    [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

    /// Adds an outer path segment, e.g. "item 2" or "argument 'x'"; containers
    /// call this while the error propagates outwards.
    void prepend_location(std::string_view segment);

private:
    void rebuild_message();

    Kind kind_;
    std::string reason_;
    std::string location_;
    std::string message_;
    std::string expected_type_;
    std::string received_type_;
};

}  // namespace greenrpc::codec
