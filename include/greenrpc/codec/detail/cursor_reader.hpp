#pragma once
// cursor_reader<T>: decodes a T straight from a MsgpackCursor. read_from_cursor() is its entry
// point. This primary template is the generic path: it serves every T whose value_reader is not
// one of the codec's own (a user's specialization, msgpack-cxx's adaptor fallback).

#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/detail/msgpack_cursor.hpp"
#include "greenrpc/codec/tree_memory.hpp"
#include "greenrpc/codec/unpack_value.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec::detail {

/// Generic path: value_reader<T> gets a msgpack::object. A scalar, STR, BIN or EXT value is the
/// header itself (no allocation); an array or map is first skipped (checked, allocation-free),
/// then only its own bytes are unpacked into a zone, bounded by unpack_value's clamping.
template <typename T>
void read_through_value_reader(MsgpackCursor& cursor, T& out) {
    if (!cursor.next_is_container()) {
        read_value(cursor.next(), out);
        return;
    }
    const std::string_view bytes = cursor.skip_value();
    const TemporaryTrees tree(cursor.limits().tree_memory);  // gone with `zone`
    msgpack::zone zone(decode_zone_chunk_size(bytes.size()));
    read_value(unpack_value(zone, bytes, cursor.limits()), out);
}

template <typename T>
struct cursor_reader {
    static void read(MsgpackCursor& cursor, T& out) { read_through_value_reader(cursor, out); }
};

/// Reads the next value of `cursor` into `out`. Throws DecodeError (validation) or MalformedInput.
template <typename T>
void read_from_cursor(MsgpackCursor& cursor, T& out) {
    cursor_reader<T>::read(cursor, out);
}

}  // namespace greenrpc::codec::detail

// The codec's own cursor readers, visible wherever read_from_cursor is (as for value_reader).
#include "greenrpc/codec/detail/container_cursor_readers.hpp"
#include "greenrpc/codec/detail/scalar_cursor_reader.hpp"
#include "greenrpc/codec/detail/struct_cursor_reader.hpp"
