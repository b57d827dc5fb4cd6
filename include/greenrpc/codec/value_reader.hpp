#pragma once
// value_reader<T>: the customization point that validates a msgpack::object
// and stores it into a T. read_value() is its entry point.

#include <type_traits>

#include <msgpack.hpp>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/enum_adaptor.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/validation_failures.hpp"

namespace greenrpc::codec {

namespace detail {

/// Base of the codec's own value_reader specializations. decode() reads the types whose
/// value_reader derives from it straight from the bytes (detail/cursor_reader.hpp); any other
/// value_reader (the msgpack-cxx fallback, a user's specialization) gets a msgpack::object.
struct standard_value_reader {};

/// Converts through msgpack-cxx's adaptors, mapping msgpack::type_error to a
/// validation DecodeError whose expected_type is T's name.
template <typename T>
void convert_with_msgpack_adaptor(const msgpack::object& in, T& out) {
    try {
        in.convert(out);
    } catch (const msgpack::type_error&) {
        throw_type_mismatch(in, type_name<T>(), type_name<T>());
    }
}

}  // namespace detail

/// Reads a msgpack::object into a T, throwing DecodeError (kind validation).
///
/// Specialized (see scalar_readers.hpp, container_readers.hpp,
/// struct_reader.hpp) for integers, floats, bool, enums, std::string, Bytes,
/// optional, vector/deque/list, array, set, map, tuple/pair and
/// MSGPACK_DEFINE_MAP / MSGPACK_DEFINE_ARRAY structs. This primary template is
/// the fallback for every other type: msgpack-cxx's own adaptor, with coarser
/// errors. Users may specialize it:
///   template <> struct greenrpc::codec::value_reader<Mine> {
///       static void read(const msgpack::object& in, Mine& out);
///   };
template <typename T>
struct value_reader {
    static void read(const msgpack::object& in, T& out) { detail::convert_with_msgpack_adaptor(in, out); }
};

/// True if value_reader<T> is one of the codec's own (see detail::standard_value_reader).
template <typename T>
concept has_standard_value_reader = std::is_base_of_v<detail::standard_value_reader, value_reader<T>>;

/// Validates `in` and stores it into `out`.
template <typename T>
void read_value(const msgpack::object& in, T& out) {
    value_reader<T>::read(in, out);
}

}  // namespace greenrpc::codec

// The standard specializations, so that wherever read_value is visible they are
// too (every translation unit must pick the same value_reader<T>). Each of
// these headers includes this one first; #pragma once resolves the cycle.
#include "greenrpc/codec/container_readers.hpp"
#include "greenrpc/codec/scalar_readers.hpp"
#include "greenrpc/codec/struct_reader.hpp"
