#pragma once
// decode<T>(): msgpack bytes of one value -> validated C++ value.

#include <cstddef>
#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/container_readers.hpp"
#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/enum_adaptor.hpp"
#include "greenrpc/codec/limits.hpp"
#include "greenrpc/codec/scalar_readers.hpp"
#include "greenrpc/codec/struct_reader.hpp"
#include "greenrpc/codec/unpack_value.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec {

/// Size of the zone's first chunk for decoding `input_size` bytes. Only
/// arrays/maps use the zone (16 bytes per element, at most one element per
/// input byte; strings reference the input), so small inputs get a small chunk
/// (allocator fast path) and large ones msgpack-cxx's default of 8 KiB.
constexpr std::size_t decode_zone_chunk_size(std::size_t input_size) noexcept {
    const std::size_t needed = input_size * sizeof(msgpack::object);
    return needed < 64 ? 64 : (needed > 8192 ? 8192 : needed);
}

/// Decodes `msgpack_bytes` (exactly one msgpack value) into `out`.
/// Throws DecodeError: invalid_msgpack or validation (see DecodeError).
template <typename T>
void decode_into(std::string_view msgpack_bytes, T& out, const DecodeLimits& limits = {}) {
    msgpack::zone zone(decode_zone_chunk_size(msgpack_bytes.size()));
    const msgpack::object value = unpack_value(zone, msgpack_bytes, limits);
    read_value(value, out);
}

/// Decodes `msgpack_bytes` (exactly one msgpack value) as a T, which must be
/// default constructible. Throws DecodeError: invalid_msgpack or validation.
template <typename T>
T decode(std::string_view msgpack_bytes, const DecodeLimits& limits = {}) {
    T value{};
    decode_into(msgpack_bytes, value, limits);
    return value;
}

}  // namespace greenrpc::codec
