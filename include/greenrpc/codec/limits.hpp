#pragma once
// DecodeLimits: upper bounds applied while parsing untrusted msgpack input.

#include <cstddef>

#include "greenrpc/codec/coercion.hpp"

namespace greenrpc::codec {

class TreeMemory;

/// Bounds enforced while unpacking ONE msgpack value (one request argument).
///
/// They are handed to msgpack::unpack as a msgpack::unpack_limit, so a hostile
/// header (e.g. "array of 4 billion elements") is rejected before anything is
/// allocated. In addition, array/map headers may never declare more entries
/// than the input has bytes left, which bounds allocation by the input size.
/// Exceeding a bound is a DecodeError of kind invalid_msgpack naming the bound.
struct DecodeLimits {
    std::size_t max_depth = 64;        ///< deepest nesting of arrays/maps (1 = one flat container)
    std::size_t max_array = 1u << 20;  ///< most elements in one array
    std::size_t max_map = 1u << 20;    ///< most key/value pairs in one map
    std::size_t max_str = 64u << 20;   ///< longest STR payload, in bytes
    std::size_t max_bin = 64u << 20;   ///< longest BIN payload, in bytes
    std::size_t max_ext = 1u << 20;    ///< longest EXT payload, in bytes (type byte included)
    /// Largest msgpack object tree built for one value, in bytes (each object and map entry as
    /// msgpack-cxx lays it out, plus copied payloads). Typed decoding builds no tree; this bounds
    /// the paths that do: a msgpack::object message (App::message_handler), types read through
    /// msgpack-cxx's own adaptors or a user's value_reader. Without it a small input of many tiny
    /// values (one byte each) costs ~16 bytes of tree per input byte.
    std::size_t max_tree_bytes = 64u << 20;
    /// Told each tree's size (as max_tree_bytes counts it) before the tree is built, and may
    /// refuse it: a server charges trees to its client memory budget this way. Not owned; null:
    /// nobody is told.
    TreeMemory* tree_memory = nullptr;
    /// How strictly scalars must match their C++ types (codec/coercion.hpp): strict, or also
    /// what pydantic 1 (Tino's server) accepts, such as "5" or 5.0 for an int.
    Coercion coercion = Coercion::strict;
};

}  // namespace greenrpc::codec
