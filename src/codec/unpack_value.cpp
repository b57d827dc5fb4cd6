// unpack_value(): bounded parsing of one msgpack value into a msgpack-cxx object tree.

#include "greenrpc/codec/unpack_value.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/detail/msgpack_scan.hpp"
#include "greenrpc/codec/tree_memory.hpp"

namespace greenrpc::codec {

namespace {

/// STR/BIN/EXT objects point into the caller's buffer instead of being copied.
bool reference_input(msgpack::type::object_type, std::size_t, void*) { return true; }

}  // namespace

msgpack::object unpack_value(msgpack::zone& zone, std::string_view bytes, const DecodeLimits& limits,
                             Payloads payloads) {
    // First an allocation-free walk: it rejects empty, truncated, malformed and trailing input and
    // every exceeded limit, with the messages below. Past it, every declared array/map length is
    // backed by elements really present, so the tree msgpack-cxx builds is bounded by the input
    // (at most one 16-byte object per input byte, one 32-byte pair per two) whatever the headers
    // say, and by max_tree_bytes, counted by the walk before anything is built.
    const bool copied = payloads == Payloads::copied;
    const detail::ScanResult scan = detail::check_well_formed(bytes, limits);
    detail::check_tree_size(scan, copied, limits);
    if (limits.tree_memory) limits.tree_memory->reserve(detail::tree_bytes(scan, copied));
    const std::size_t size = bytes.size();
    const msgpack::unpack_limit limit(std::min(limits.max_array, size), std::min(limits.max_map, size / 2),
                                      limits.max_str, limits.max_bin, limits.max_ext, limits.max_depth);
    std::size_t offset = 0;
    try {
        return msgpack::unpack(zone, bytes.data(), size, offset, copied ? nullptr : reference_input, nullptr, limit);
    } catch (const msgpack::unpack_error& error) {  // unreachable after check_well_formed
        throw DecodeError::invalid_msgpack(error.what());
    }
}

msgpack::object_handle unpack_value(std::string_view bytes, const DecodeLimits& limits) {
    auto zone = std::make_unique<msgpack::zone>();
    const msgpack::object value = unpack_value(*zone, bytes, limits);
    return msgpack::object_handle(value, std::move(zone));
}

}  // namespace greenrpc::codec
