// Error location segments.

#include "greenrpc/codec/error_location.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace greenrpc::codec {

namespace {

// Keys are user data: a location carries at most this much of one (a reply line stays short).
constexpr std::size_t max_key_bytes = 128;
// How much of a key the human description shows.
constexpr std::size_t max_quoted_key = 64;

/// 'text' with quotes/backslashes/non-printables escaped, shortened with "...".
std::string single_quoted(std::string_view text) {
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

/// At most max_key_bytes of `text`, cut where no UTF-8 character is split.
std::string cut_key(const char* data, std::size_t size) {
    if (size <= max_key_bytes) return std::string(data, size);
    std::size_t end = max_key_bytes;
    while (end > 0 && (static_cast<unsigned char>(data[end]) & 0xc0) == 0x80) --end;
    return std::string(data, end);
}

/// A key's identity inside a segment of `kind`.
PathSegment key_segment(PathSegment::Kind kind, const msgpack::object& key, std::size_t position) {
    PathSegment segment{kind, {}, 0, false};
    switch (key.type) {
        case msgpack::type::STR:
            segment.text = cut_key(key.via.str.ptr, key.via.str.size);
            break;
        case msgpack::type::BIN:
            segment.text = cut_key(key.via.bin.ptr, key.via.bin.size);
            break;
        case msgpack::type::POSITIVE_INTEGER:
            if (key.via.u64 <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                segment.number = static_cast<std::int64_t>(key.via.u64);
                segment.numeric = true;
            } else {
                segment.text = decimal(key.via.u64);
            }
            break;
        case msgpack::type::NEGATIVE_INTEGER:
            segment.number = key.via.i64;
            segment.numeric = true;
            break;
        default:
            segment.text = decimal(position);
            segment.text.insert(segment.text.begin(), '#');
            break;
    }
    return segment;
}

}  // namespace

PathSegment item_location(std::size_t index) {
    return PathSegment{PathSegment::Kind::item, {}, static_cast<std::int64_t>(index), true};
}

PathSegment field_location(std::string_view name) {
    return PathSegment{PathSegment::Kind::field, std::string(name), 0, false};
}

PathSegment key_location(const msgpack::object& key, std::size_t position) {
    return key_segment(PathSegment::Kind::key, key, position);
}

PathSegment invalid_key_location(const msgpack::object& key, std::size_t position) {
    return key_segment(PathSegment::Kind::invalid_key, key, position);
}

std::string describe(const PathSegment& segment) {
    switch (segment.kind) {
        case PathSegment::Kind::item: return "item " + decimal(segment.number);
        case PathSegment::Kind::field: return "field " + single_quoted(segment.text);
        case PathSegment::Kind::key:
            return "key " + (segment.numeric ? decimal(segment.number) : single_quoted(segment.text));
        case PathSegment::Kind::invalid_key:
            return "invalid key " + (segment.numeric ? decimal(segment.number) : single_quoted(segment.text));
    }
    return {};
}

}  // namespace greenrpc::codec
