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

/// Initial zone chunk for one decode: small enough for the allocator's fast
/// path; only arrays/maps use it (strings reference the input).
inline constexpr std::size_t decode_zone_chunk_size = 512;

/// Decodes `msgpack_bytes` (exactly one msgpack value) into `out`.
/// Throws DecodeError: invalid_msgpack or validation (see DecodeError).
template <typename T>
void decode_into(std::string_view msgpack_bytes, T& out, const DecodeLimits& limits = {}) {
    msgpack::zone zone(decode_zone_chunk_size);
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
