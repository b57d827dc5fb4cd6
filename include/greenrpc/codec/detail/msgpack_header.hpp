#pragma once
// read_header(): the header of one msgpack value, straight from the bytes.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <msgpack.hpp>

namespace greenrpc::codec::detail {

/// Whether a header could be read.
enum class HeaderStatus { ok, truncated, malformed };

/// One header as read by read_header().
///
/// `value` is what msgpack-cxx's unpacker would have built for the value, as
/// far as the header tells: scalars are complete; STR/BIN/EXT point at their
/// payload (`payload` bytes follow the header; their presence is NOT checked);
/// ARRAY/MAP carry only their declared size (via.array.size / via.map.size,
/// null ptr): their elements follow.
struct MsgpackHeader {
    msgpack::object value;
    std::size_t payload = 0;
};

namespace header_bytes {

template <typename U>
U load_big_endian(const char* p) noexcept {
    U value;
    std::memcpy(&value, p, sizeof value);
    if constexpr (std::endian::native == std::endian::little) {
        if constexpr (sizeof(U) == 2) value = __builtin_bswap16(value);
        if constexpr (sizeof(U) == 4) value = __builtin_bswap32(value);
        if constexpr (sizeof(U) == 8) value = __builtin_bswap64(value);
    }
    return value;
}

inline void set_unsigned(msgpack::object& out, std::uint64_t value) noexcept {
    out.type = msgpack::type::POSITIVE_INTEGER;
    out.via.u64 = value;
}

/// As msgpack-cxx: signed encodings of non-negative values are POSITIVE_INTEGER.
inline void set_signed(msgpack::object& out, std::int64_t value) noexcept {
    if (value >= 0) {
        set_unsigned(out, static_cast<std::uint64_t>(value));
    } else {
        out.type = msgpack::type::NEGATIVE_INTEGER;
        out.via.i64 = value;
    }
}

}  // namespace header_bytes

/// Reads the header at `pos` (not beyond `end`), advancing `pos` past it (not
/// past a STR/BIN/EXT payload). On failure `pos` is unspecified.
inline HeaderStatus read_header(const char*& pos, const char* end, MsgpackHeader& out) noexcept {
    using namespace header_bytes;
    if (pos == end) return HeaderStatus::truncated;
    const auto lead = static_cast<std::uint8_t>(*pos++);
    msgpack::object& value = out.value;
    out.payload = 0;
    if (lead <= 0x7f) {
        set_unsigned(value, lead);
        return HeaderStatus::ok;
    }
    if (lead >= 0xe0) {
        set_signed(value, static_cast<std::int8_t>(lead));
        return HeaderStatus::ok;
    }
    if (lead <= 0x8f) {
        value.type = msgpack::type::MAP;
        value.via.map.size = lead & 0x0fu;
        value.via.map.ptr = nullptr;
        return HeaderStatus::ok;
    }
    if (lead <= 0x9f) {
        value.type = msgpack::type::ARRAY;
        value.via.array.size = lead & 0x0fu;
        value.via.array.ptr = nullptr;
        return HeaderStatus::ok;
    }
    if (lead <= 0xbf) {
        value.type = msgpack::type::STR;
        value.via.str.size = lead & 0x1fu;
        value.via.str.ptr = pos;
        out.payload = value.via.str.size;
        return HeaderStatus::ok;
    }
    // 0xc0..0xdf: the lead byte may be followed by a fixed number of bytes.
    static constexpr std::uint8_t extra_bytes[32] = {
        0, 0, 0, 0,  // c0 nil, c1 never used, c2 false, c3 true
        1, 2, 4,     // c4..c6 bin 8/16/32
        2, 3, 5,     // c7..c9 ext 8/16/32 (length + type)
        4, 8,        // ca float32, cb float64
        1, 2, 4, 8,  // cc..cf uint 8..64
        1, 2, 4, 8,  // d0..d3 int 8..64
        2, 3, 5, 9, 17,  // d4..d8 fixext 1/2/4/8/16 (type + data)
        1, 2, 4,     // d9..db str 8/16/32
        2, 4,        // dc, dd array 16/32
        2, 4,        // de, df map 16/32
    };
    const std::size_t extra = extra_bytes[lead - 0xc0];
    if (static_cast<std::size_t>(end - pos) < extra) return lead == 0xc1 ? HeaderStatus::malformed : HeaderStatus::truncated;
    const char* p = pos;
    pos += extra;
    auto set_str_like = [&](msgpack::type::object_type type, std::size_t size) {
        value.type = type;
        value.via.str.size = static_cast<std::uint32_t>(size);  // str/bin share their layout
        value.via.str.ptr = pos;
        out.payload = size;
    };
    auto set_ext = [&](std::size_t data_size) {
        value.type = msgpack::type::EXT;
        value.via.ext.size = static_cast<std::uint32_t>(data_size);
        value.via.ext.ptr = pos - 1;  // at the type byte, as msgpack-cxx
        out.payload = data_size;      // the type byte was counted in `extra`
    };
    switch (lead) {
        case 0xc0: value.type = msgpack::type::NIL; return HeaderStatus::ok;
        case 0xc1: return HeaderStatus::malformed;
        case 0xc2:
        case 0xc3:
            value.type = msgpack::type::BOOLEAN;
            value.via.boolean = lead == 0xc3;
            return HeaderStatus::ok;
        case 0xc4: set_str_like(msgpack::type::BIN, load_big_endian<std::uint8_t>(p)); return HeaderStatus::ok;
        case 0xc5: set_str_like(msgpack::type::BIN, load_big_endian<std::uint16_t>(p)); return HeaderStatus::ok;
        case 0xc6: set_str_like(msgpack::type::BIN, load_big_endian<std::uint32_t>(p)); return HeaderStatus::ok;
        case 0xc7: set_ext(load_big_endian<std::uint8_t>(p)); return HeaderStatus::ok;
        case 0xc8: set_ext(load_big_endian<std::uint16_t>(p)); return HeaderStatus::ok;
        case 0xc9: set_ext(load_big_endian<std::uint32_t>(p)); return HeaderStatus::ok;
        case 0xca:
            value.type = msgpack::type::FLOAT32;
            value.via.f64 = static_cast<double>(std::bit_cast<float>(load_big_endian<std::uint32_t>(p)));
            return HeaderStatus::ok;
        case 0xcb:
            value.type = msgpack::type::FLOAT64;
            value.via.f64 = std::bit_cast<double>(load_big_endian<std::uint64_t>(p));
            return HeaderStatus::ok;
        case 0xcc: set_unsigned(value, load_big_endian<std::uint8_t>(p)); return HeaderStatus::ok;
        case 0xcd: set_unsigned(value, load_big_endian<std::uint16_t>(p)); return HeaderStatus::ok;
        case 0xce: set_unsigned(value, load_big_endian<std::uint32_t>(p)); return HeaderStatus::ok;
        case 0xcf: set_unsigned(value, load_big_endian<std::uint64_t>(p)); return HeaderStatus::ok;
        case 0xd0: set_signed(value, static_cast<std::int8_t>(load_big_endian<std::uint8_t>(p))); return HeaderStatus::ok;
        case 0xd1: set_signed(value, static_cast<std::int16_t>(load_big_endian<std::uint16_t>(p))); return HeaderStatus::ok;
        case 0xd2: set_signed(value, static_cast<std::int32_t>(load_big_endian<std::uint32_t>(p))); return HeaderStatus::ok;
        case 0xd3: set_signed(value, static_cast<std::int64_t>(load_big_endian<std::uint64_t>(p))); return HeaderStatus::ok;
        case 0xd4: pos -= 1; set_ext(1); return HeaderStatus::ok;
        case 0xd5: pos -= 2; set_ext(2); return HeaderStatus::ok;
        case 0xd6: pos -= 4; set_ext(4); return HeaderStatus::ok;
        case 0xd7: pos -= 8; set_ext(8); return HeaderStatus::ok;
        case 0xd8: pos -= 16; set_ext(16); return HeaderStatus::ok;
        case 0xd9: set_str_like(msgpack::type::STR, load_big_endian<std::uint8_t>(p)); return HeaderStatus::ok;
        case 0xda: set_str_like(msgpack::type::STR, load_big_endian<std::uint16_t>(p)); return HeaderStatus::ok;
        case 0xdb: set_str_like(msgpack::type::STR, load_big_endian<std::uint32_t>(p)); return HeaderStatus::ok;
        case 0xdc:
        case 0xdd:
            value.type = msgpack::type::ARRAY;
            value.via.array.size = lead == 0xdc ? load_big_endian<std::uint16_t>(p) : load_big_endian<std::uint32_t>(p);
            value.via.array.ptr = nullptr;
            return HeaderStatus::ok;
        default:  // 0xde, 0xdf
            value.type = msgpack::type::MAP;
            value.via.map.size = lead == 0xde ? load_big_endian<std::uint16_t>(p) : load_big_endian<std::uint32_t>(p);
            value.via.map.ptr = nullptr;
            return HeaderStatus::ok;
    }
}

}  // namespace greenrpc::codec::detail
