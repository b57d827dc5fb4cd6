#pragma once
// DecodeError: why a msgpack value could not be decoded into a C++ type.

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace greenrpc::codec {

/// One step of the path from a decoded value down to the part at fault.
struct PathSegment {
    enum class Kind {
        field,        ///< a struct's member: `text` is its name
        item,         ///< an element of a list/array/set/tuple: `number` is its 0-based index
        key,          ///< the value stored under a map key: `number` (integer key) or `text`
        invalid_key,  ///< a map key itself failed validation (pydantic's "__key__")
    };
    Kind kind;
    std::string text;         ///< field name, or a string/binary key (cut to 128 bytes, see key_location)
    std::int64_t number = 0;  ///< item index, or an integer key
    bool numeric = false;     ///< `number` is meant (items, integer keys), not `text`
};

/// Thrown by decode()/read_value().
///
/// - Kind::invalid_msgpack: the bytes are not exactly one well-formed msgpack
///   value (empty, truncated, malformed, trailing bytes), or a DecodeLimits
///   bound was exceeded. msg() is "invalid msgpack" for the former and names
///   the bound for the latter.
/// - Kind::validation: well-formed msgpack of the wrong type or range for the
///   target C++ type.
///
/// msg() and type() are what pydantic 1 reports for the same failure
/// ("value is not a valid integer", "type_error.integer"), so that a greenrpc
/// server's error replies are Tino's; path() says where, outermost first. A
/// failure pydantic has no words for keeps greenrpc's own in the same shape.
/// detail() adds what pydantic does not say (the C++ type, the value received),
/// for logs. expected_type() is the C++ type's short name (see type_name()),
/// received_type() the short name of what arrived ("str", "none", ...).
///
/// message() (and what()) is for people: "<location>: <msg> (<detail>)", the
/// location written as "field 'items', item 2", or just the msg when the
/// top-level value itself is at fault.
class DecodeError : public std::exception {
public:
    enum class Kind { invalid_msgpack, validation };

    DecodeError(Kind kind, std::string msg, std::string type, std::string expected_type = {},
                std::string received_type = {}, std::string detail = {});

    /// A validation failure of the value itself (no path yet).
    static DecodeError validation(std::string msg, std::string_view type, std::string_view expected_type,
                                  std::string_view received_type, std::string detail = {});
    /// Input that is not one well-formed msgpack value: msg() "invalid msgpack", `detail` says how.
    static DecodeError invalid_msgpack(std::string detail);
    /// Well-formed input beyond a DecodeLimits bound: msg() is `what` (it names the bound).
    static DecodeError limit_exceeded(std::string what);

    [[nodiscard]] Kind kind() const noexcept { return kind_; }
    [[nodiscard]] const std::string& msg() const noexcept { return msg_; }
    [[nodiscard]] const std::string& type() const noexcept { return type_; }
    [[nodiscard]] const std::vector<PathSegment>& path() const noexcept { return path_; }
    [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    /// The path for people: "field 'items', item 2" (empty at the top level).
    [[nodiscard]] std::string location() const;
    [[nodiscard]] const std::string& expected_type() const noexcept { return expected_type_; }
    [[nodiscard]] const std::string& received_type() const noexcept { return received_type_; }
    [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

    /// Adds an outer path segment (see error_location.hpp); containers call this while the
    /// error propagates outwards.
    void prepend_location(PathSegment segment);

private:
    void rebuild_message();

    Kind kind_;
    std::string msg_;
    std::string type_;
    std::vector<PathSegment> path_;  // outermost first
    std::string detail_;
    std::string message_;
    std::string expected_type_;
    std::string received_type_;
};

}  // namespace greenrpc::codec
