#pragma once
// decode<T>(): msgpack bytes of one value -> validated C++ value.

#include <cstddef>
#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/container_readers.hpp"
#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/detail/cursor_reader.hpp"
#include "greenrpc/codec/detail/msgpack_cursor.hpp"
#include "greenrpc/codec/detail/msgpack_scan.hpp"
#include "greenrpc/codec/enum_adaptor.hpp"
#include "greenrpc/codec/limits.hpp"
#include "greenrpc/codec/scalar_readers.hpp"
#include "greenrpc/codec/struct_reader.hpp"
#include "greenrpc/codec/unpack_value.hpp"
#include "greenrpc/codec/tree_memory.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec {

namespace detail {

/// True when T holds no map-shaped struct at any depth (scalars, and optionals, sequences, sets,
/// fixed arrays and maps of them): its fields are met in the same order whichever way it is
/// read, so a failure needs no second read in declaration order. False when unsure.
template <typename T>
constexpr bool read_order_is_declaration_order() {
    if constexpr (scalar_value<T>) {
        return true;
    } else if constexpr (optional_type<T> || sequence_type<T> || set_type<T> || fixed_array_type<T>) {
        return read_order_is_declaration_order<typename T::value_type>();
    } else if constexpr (map_type<T>) {
        return read_order_is_declaration_order<typename T::key_type>() &&
               read_order_is_declaration_order<typename T::mapped_type>();
    } else {
        return false;
    }
}

}  // namespace detail

/// Decodes `msgpack_bytes` (exactly one msgpack value) into `out`.
/// Throws DecodeError: invalid_msgpack or validation (see DecodeError).
///
/// The bytes are read with a pull parser (detail::MsgpackCursor): each header is checked against
/// the C++ type it must fill as soon as it is read, and strings, binaries and elements go
/// straight into `out`; no msgpack object tree is built (except for values whose value_reader is
/// not one of the codec's own, see detail/cursor_reader.hpp). Every declared length is clamped
/// against the bytes left before anything is allocated for it.
template <typename T>
void decode_into(std::string_view msgpack_bytes, T& out, const DecodeLimits& limits = {}) {
    const std::size_t trees_before = limits.tree_memory ? limits.tree_memory->reserved() : 0;
    detail::MsgpackCursor cursor(msgpack_bytes, limits);
    try {
        detail::read_from_cursor(cursor, out);
        if (!cursor.at_end()) throw detail::MalformedInput{};
    } catch (const detail::MalformedInput&) {
        detail::throw_invalid_msgpack(msgpack_bytes, limits);
    } catch (const DecodeError& error) {
        if (error.kind() == DecodeError::Kind::validation) {
            // Input that is not one well-formed value is invalid_msgpack even when a type error
            // comes first in it: the rest is walked (allocation-free) before the validation error
            // goes out.
            detail::check_well_formed(msgpack_bytes, limits);
            if constexpr (detail::read_order_is_declaration_order<T>()) throw;
            // The cursor meets a struct's fields in the order they arrive; pydantic (so Tino)
            // reports the first failure in the order they are declared. Failures only: read again,
            // field by field in declaration order (bounded like the first read; each struct also
            // holds one view per field it declares), and that read's failure is the one thrown.
            detail::MsgpackCursor ordered(msgpack_bytes, limits);
            ordered.use_declaration_order();
            // The trees the first read built are replaced by this read's: charged once.
            if (limits.tree_memory) limits.tree_memory->release_to(trees_before);
            try {
                detail::read_from_cursor(ordered, out);
                // It succeeded: the first read failed on a repeated key's earlier value, which
                // pydantic (a Python dict: the last one wins) never sees. So does greenrpc.
                return;
            } catch (const detail::MalformedInput&) {  // not after check_well_formed
            }
        }
        throw;
    }
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
