#pragma once
// unpack_value(): parse exactly one msgpack value from untrusted bytes, within limits.

#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/limits.hpp"

namespace greenrpc::codec {

/// Parses `bytes`, which must hold exactly one msgpack value, into `zone`.
/// STR/BIN/EXT payloads are NOT copied: the returned object points into
/// `bytes` (and `zone`), so both must outlive it. Throws DecodeError
/// (kind invalid_msgpack) for empty, truncated, malformed or trailing input and
/// for any exceeded DecodeLimits bound (the message names it).
msgpack::object unpack_value(msgpack::zone& zone, std::string_view bytes, const DecodeLimits& limits = {});

/// As above, with a zone owned by the returned handle; `bytes` must still
/// outlive the handle.
msgpack::object_handle unpack_value(std::string_view bytes, const DecodeLimits& limits = {});

}  // namespace greenrpc::codec
