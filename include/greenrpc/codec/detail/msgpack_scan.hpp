#pragma once
// scan_value(): allocation-free structural check of msgpack bytes within DecodeLimits, and the
// exact invalid_msgpack DecodeError for what it finds.

#include <cstddef>
#include <string_view>

#include "greenrpc/codec/limits.hpp"

namespace greenrpc::codec::detail {

/// The first thing (in byte order) that keeps bytes from being one msgpack value within limits.
enum class InputFault {
    none,
    truncated,            ///< the value needs more bytes than there are
    malformed,            ///< 0xc1, the never-used type byte
    array_limit,          ///< array length > max_array
    array_beyond_input,   ///< array length > the whole input's size
    map_limit,            ///< map length > max_map
    map_beyond_input,     ///< map length > half the whole input's size
    str_limit,            ///< STR payload > max_str
    bin_limit,            ///< BIN payload > max_bin
    ext_limit,            ///< EXT payload (type byte included) > max_ext
    depth_limit,          ///< more than max_depth nested arrays/maps
};

struct ScanResult {
    InputFault fault = InputFault::none;
    const char* end = nullptr;    ///< just past the value (when fault == none)
    std::size_t declared = 0;     ///< the declared length, for array_* / map_* faults
    std::size_t objects = 0;      ///< values walked (containers, their elements, map keys)
    std::size_t payload_bytes = 0;  ///< STR/BIN/EXT payload bytes walked
};

/// Bytes of the msgpack-cxx object tree for a scanned value: one msgpack::object per value (map
/// entries are two), plus the payloads when they are copied into the zone.
std::size_t tree_bytes(const ScanResult& scan, bool copies_payloads) noexcept;

/// Throws the limit_exceeded DecodeError when `scan`'s tree is larger than max_tree_bytes.
void check_tree_size(const ScanResult& scan, bool copies_payloads, const DecodeLimits& limits);

/// Walks the one value starting at `begin` (not beyond `end`) without allocating, the same way
/// msgpack-cxx's unpacker would: the first fault in byte order wins, a STR/BIN/EXT payload must
/// be present before its limit is checked, an array/map header is checked against max_array /
/// max_map, then against `whole_size` (one byte per element, two per map entry), then against
/// max_depth. `depth` is the number of arrays/maps already open around the value.
/// Iterative: its only memory is a stack of open containers' counts (on the C++ stack up to 64
/// levels, then on the heap, bounded by the nesting actually present).
ScanResult scan_value(const char* begin, const char* end, std::size_t depth, std::size_t whole_size,
                      const DecodeLimits& limits);

/// Throws the invalid_msgpack DecodeError that unpacking `bytes` as one value would raise,
/// if any (empty, truncated, malformed, trailing bytes, a limit exceeded); returns otherwise.
/// Returns the walk's result (objects and payload bytes counted).
ScanResult check_well_formed(std::string_view bytes, const DecodeLimits& limits);

/// check_well_formed() for bytes already known to be bad; if (through a bug) they are not,
/// still throws an invalid_msgpack DecodeError.
[[noreturn]] void throw_invalid_msgpack(std::string_view bytes, const DecodeLimits& limits);

}  // namespace greenrpc::codec::detail
