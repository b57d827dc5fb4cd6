#pragma once
// value_reader specializations for standard containers: optional, sequences
// (vector/deque/list), byte vectors, std::array, sets, maps and tuples/pairs.
// Errors inside an element are re-thrown with the element's location prepended.

#include <cstddef>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <msgpack.hpp>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/error_location.hpp"
#include "greenrpc/codec/type_categories.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/validation_failures.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec {

namespace detail {

/// Reads `in.via.array.ptr[index]` into `out`, adding "item <index>" to errors.
template <typename T>
void read_item(const msgpack::object& array, std::size_t index, T& out) {
    try {
        read_value(array.via.array.ptr[index], out);
    } catch (DecodeError& error) {
        error.prepend_location(item_location(index));
        throw;
    }
}

/// The payload of a BIN or STR object, or nullptr for other types.
inline const char* raw_bytes(const msgpack::object& in, std::size_t& size) {
    if (in.type == msgpack::type::BIN) {
        size = in.via.bin.size;
        return in.via.bin.ptr;
    }
    if (in.type == msgpack::type::STR) {
        size = in.via.str.size;
        return in.via.str.ptr;
    }
    return nullptr;
}

}  // namespace detail

/// optional<T>: nil -> nullopt, anything else must be a valid T.
template <optional_type T>
struct value_reader<T> : detail::standard_value_reader {
    static void read(const msgpack::object& in, T& out) {
        if (in.type == msgpack::type::NIL) {
            out.reset();
            return;
        }
        if (!out) out.emplace();
        read_value(in, *out);
    }
};

/// vector/deque/list: from a msgpack array. Byte vectors (vector<char>,
/// vector<unsigned char>, vector<std::byte>, which msgpack-cxx packs as BIN)
/// also accept BIN/STR.
template <sequence_type T>
struct value_reader<T> : detail::standard_value_reader {
    using element = typename T::value_type;

    /// Elements allocated before any is validated. Hostile input can declare
    /// ~1 element per input byte; beyond this budget the vector only grows as
    /// elements prove valid, so a small message cannot force a huge allocation
    /// of large elements.
    static constexpr std::size_t eager_elements =
        sizeof(element) >= (std::size_t{1} << 20) ? 1 : (std::size_t{1} << 20) / sizeof(element);

    static void read(const msgpack::object& in, T& out) {
        if constexpr (byte_vector_type<T>) {
            std::size_t size = 0;
            if (const char* bytes = detail::raw_bytes(in, size)) {
                out.resize(size);
                if (size != 0) std::memcpy(out.data(), bytes, size);
                return;
            }
        }
        if (in.type != msgpack::type::ARRAY) {
            throw_type_mismatch(in, byte_vector_type<T> ? "bytes" : "list", type_name<T>());
        }
        const std::size_t size = in.via.array.size;
        out.clear();
        if constexpr (detail::is_specialization_of<T, std::vector> && !std::is_same_v<element, bool>) {
            if (size <= eager_elements) {
                // Size once, then fill in place: no per-element capacity checks.
                out.resize(size);
                element* items = out.data();
                std::size_t i = 0;
                try {
                    for (; i < size; ++i) read_value(in.via.array.ptr[i], items[i]);
                } catch (DecodeError& error) {
                    error.prepend_location(item_location(i));
                    throw;
                }
                return;
            }
            out.reserve(eager_elements);
        }
        for (std::size_t i = 0; i < size; ++i) {
            if constexpr (std::is_same_v<element, bool>) {  // vector<bool> has no bool&
                bool item = false;
                detail::read_item(in, i, item);
                out.push_back(item);
            } else {
                detail::read_item(in, i, out.emplace_back());
            }
        }
    }
};

/// std::array<T, N>: a msgpack array of exactly N elements (or BIN/STR of
/// exactly N bytes for byte elements).
template <fixed_array_type T>
struct value_reader<T> : detail::standard_value_reader {
    static constexpr std::size_t length = std::tuple_size_v<T>;

    static void read(const msgpack::object& in, T& out) {
        if constexpr (byte_element<typename T::value_type>) {
            std::size_t size = 0;
            if (const char* bytes = detail::raw_bytes(in, size)) {
                if (size != length) throw_length_mismatch(length, size, type_name<T>());
                if (size != 0) std::memcpy(out.data(), bytes, size);
                return;
            }
        }
        if (in.type != msgpack::type::ARRAY) throw_type_mismatch(in, "list", type_name<T>());
        if (in.via.array.size != length) throw_length_mismatch(length, in.via.array.size, type_name<T>());
        for (std::size_t i = 0; i < length; ++i) detail::read_item(in, i, out[i]);
    }
};

/// set/unordered_set: from a msgpack array (duplicates collapse).
template <set_type T>
struct value_reader<T> : detail::standard_value_reader {
    static void read(const msgpack::object& in, T& out) {
        if (in.type != msgpack::type::ARRAY) throw_type_mismatch(in, "set", type_name<T>());
        out.clear();
        for (std::size_t i = 0; i < in.via.array.size; ++i) {
            typename T::value_type item{};
            detail::read_item(in, i, item);
            out.insert(std::move(item));
        }
    }
};

/// map/unordered_map: from a msgpack map; keys and values are validated as
/// K and V. A repeated key keeps the last value (like a Python dict).
template <map_type T>
struct value_reader<T> : detail::standard_value_reader {
    using key_type = typename T::key_type;
    using mapped_type = typename T::mapped_type;

    static void read(const msgpack::object& in, T& out) {
        if (in.type != msgpack::type::MAP) throw_type_mismatch(in, "dict", type_name<T>());
        out.clear();
        if constexpr (requires { out.reserve(std::size_t{}); }) out.reserve(in.via.map.size);
        for (std::size_t i = 0; i < in.via.map.size; ++i) {
            const msgpack::object_kv& entry = in.via.map.ptr[i];
            key_type key{};
            try {
                read_value(entry.key, key);
            } catch (DecodeError& error) {
                error.prepend_location(invalid_key_location(entry.key, i));
                throw;
            }
            auto [slot, inserted] = out.try_emplace(std::move(key));
            if (!inserted) slot->second = mapped_type{};
            try {
                read_value(entry.val, slot->second);
            } catch (DecodeError& error) {
                error.prepend_location(key_location(entry.key, i));
                throw;
            }
        }
    }
};

/// tuple/pair: a msgpack array of exactly tuple_size elements.
template <tuple_type T>
struct value_reader<T> : detail::standard_value_reader {
    static constexpr std::size_t length = std::tuple_size_v<T>;

    static void read(const msgpack::object& in, T& out) {
        if (in.type != msgpack::type::ARRAY) throw_type_mismatch(in, "tuple", type_name<T>());
        if (in.via.array.size != length) throw_tuple_length_mismatch(length, in.via.array.size, type_name<T>());
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (detail::read_item(in, I, std::get<I>(out)), ...);
        }(std::make_index_sequence<length>{});
    }
};

}  // namespace greenrpc::codec
