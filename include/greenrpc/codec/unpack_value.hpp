#pragma once
// unpack_value(): parse exactly one msgpack value from untrusted bytes, within limits.

#include <cstddef>
#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/limits.hpp"

namespace greenrpc::codec {

/// Size of the zone's first chunk for decoding `input_size` bytes. Only
/// arrays/maps use the zone (16 bytes per element, at most one element per
/// input byte; strings reference the input), so small inputs get a small chunk
/// (allocator fast path) and large ones msgpack-cxx's default of 8 KiB.
constexpr std::size_t decode_zone_chunk_size(std::size_t input_size) noexcept {
    const std::size_t needed = input_size * sizeof(msgpack::object);
    return needed < 64 ? 64 : (needed > 8192 ? 8192 : needed);
}

/// Whether STR/BIN/EXT payloads stay in the input (referenced) or are copied into the zone.
enum class Payloads { referenced, copied };

/// Parses `bytes`, which must hold exactly one msgpack value, into `zone`.
/// The bytes are first walked without allocating (detail::check_well_formed), so the tree is
/// built only for well-formed input within `limits`: every declared array/map length is backed
/// by elements present, and the tree stays proportional to the input (at most ~16 bytes per
/// input byte) and within max_tree_bytes. Typed decoding (decode()) builds no tree except for
/// values read through a non-standard value_reader.
/// Payloads::referenced: STR/BIN/EXT payloads are NOT copied: the returned object points into
/// `bytes` (and `zone`), so both must outlive it. Throws DecodeError
/// (kind invalid_msgpack) for empty, truncated, malformed or trailing input and
/// for any exceeded DecodeLimits bound (the message names it).
msgpack::object unpack_value(msgpack::zone& zone, std::string_view bytes, const DecodeLimits& limits = {},
                             Payloads payloads = Payloads::referenced);

/// As above, with a zone owned by the returned handle; `bytes` must still
/// outlive the handle.
msgpack::object_handle unpack_value(std::string_view bytes, const DecodeLimits& limits = {});

}  // namespace greenrpc::codec
