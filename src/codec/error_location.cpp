// Error location segments.

#include "greenrpc/codec/error_location.hpp"

#include <charconv>
#include <cstdint>

namespace greenrpc::codec {

namespace {

constexpr std::size_t max_quoted_key = 64;

/// 'text' with quotes/backslashes/non-printables escaped, shortened with "...".
std::string quoted(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "'";
    const std::size_t shown = text.size() > max_quoted_key ? max_quoted_key : text.size();
    for (std::size_t i = 0; i < shown; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\'' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (shown < text.size()) out += "...";
    out += '\'';
    return out;
}

template <typename Integer>
std::string decimal(Integer value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

/// prefix + text (built by appending: GCC 12 warns falsely on "literal" + string&&).
std::string prefixed(std::string_view prefix, std::string_view text) {
    std::string out;
    out.reserve(prefix.size() + text.size());
    out.append(prefix).append(text);
    return out;
}

/// How a map key is shown inside a location segment.
std::string describe_key(const msgpack::object& key, std::size_t position) {
    switch (key.type) {
        case msgpack::type::STR: return quoted({key.via.str.ptr, key.via.str.size});
        case msgpack::type::BIN: return quoted({key.via.bin.ptr, key.via.bin.size});
        case msgpack::type::POSITIVE_INTEGER: return decimal(key.via.u64);
        case msgpack::type::NEGATIVE_INTEGER: return decimal(key.via.i64);
        default: return prefixed("#", decimal(position));
    }
}

}  // namespace

std::string item_location(std::size_t index) { return prefixed("item ", decimal(index)); }

std::string field_location(std::string_view name) { return prefixed("field ", quoted(name)); }

std::string key_location(const msgpack::object& key, std::size_t position) {
    return prefixed("key ", describe_key(key, position));
}

std::string invalid_key_location(const msgpack::object& key, std::size_t position) {
    return prefixed("invalid key ", describe_key(key, position));
}

}  // namespace greenrpc::codec
