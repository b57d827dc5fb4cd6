#pragma once
// cursor_reader for standard containers: optional, sequences (vector/deque/list, byte vectors),
// std::array, sets, maps and tuples/pairs. Same rules and messages as container_readers.hpp;
// elements are decoded as their headers arrive, and nothing is allocated for a container beyond
// what its declared length (already clamped by the cursor against the bytes left) can justify.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include <msgpack.hpp>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/detail/cursor_reader.hpp"
#include "greenrpc/codec/error_location.hpp"
#include "greenrpc/codec/type_categories.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/validation_failures.hpp"

namespace greenrpc::codec::detail {

/// Bytes a container may allocate for its elements before any of them is validated: two per
/// declared element (the cursor guarantees the declared lengths of all open containers together
/// fit in the input, so this is at most twice the input across every nesting level), but at
/// least `floor_bytes`, so that small containers are still allocated once.
inline constexpr std::size_t eager_bytes_per_element = 2;
inline constexpr std::size_t eager_floor_bytes = 256;

/// How many of `declared` elements of `element_size` bytes may be allocated up front.
constexpr std::size_t eager_elements(std::size_t declared, std::size_t element_size) noexcept {
    const std::size_t budget = std::max(declared * eager_bytes_per_element, eager_floor_bytes);
    return std::min(declared, std::max<std::size_t>(budget / element_size, 1));
}

/// Reads the next value into `out`, adding "item <index>" to validation errors.
template <typename T>
void read_item(MsgpackCursor& cursor, std::size_t index, T& out) {
    try {
        read_from_cursor(cursor, out);
    } catch (DecodeError& error) {
        error.prepend_location(item_location(index));
        throw;
    }
}

/// optional<T>: nil -> nullopt, anything else must be a valid T.
template <optional_type T>
    requires has_standard_value_reader<T>
struct cursor_reader<T> {
    static void read(MsgpackCursor& cursor, T& out) {
        if (cursor.next_is_nil()) {
            (void)cursor.next();
            out.reset();
            return;
        }
        if (!out) out.emplace();
        read_from_cursor(cursor, *out);
    }
};

/// vector/deque/list from an array; byte vectors also from BIN/STR.
template <sequence_type T>
    requires has_standard_value_reader<T>
struct cursor_reader<T> {
    using element = typename T::value_type;

    static void read(MsgpackCursor& cursor, T& out) {
        const msgpack::object header = cursor.next();
        if constexpr (byte_vector_type<T>) {
            if (header.type == msgpack::type::BIN || header.type == msgpack::type::STR) {
                const std::size_t size = header.via.str.size;  // bin and str share their layout
                out.resize(size);
                if (size != 0) std::memcpy(out.data(), header.via.str.ptr, size);
                return;
            }
        }
        if (header.type != msgpack::type::ARRAY) {
            throw_type_mismatch(header, byte_vector_type<T> ? "bytes" : "list", type_name<T>());
        }
        const std::size_t size = header.via.array.size;
        out.clear();
        if constexpr (is_specialization_of<T, std::vector> && !std::is_same_v<element, bool>) {
            const std::size_t eager = eager_elements(size, sizeof(element));
            if (eager == size) {
                // Size once, then fill in place: no per-element capacity checks.
                out.resize(size);
                element* items = out.data();
                std::size_t i = 0;
                try {
                    for (; i < size; ++i) read_from_cursor(cursor, items[i]);
                } catch (DecodeError& error) {
                    error.prepend_location(item_location(i));
                    throw;
                }
                cursor.close_container();
                return;
            }
            // Beyond the eager budget the vector grows only as elements prove valid, doubling
            // up to the declared length (never past it).
            out.reserve(eager);
            for (std::size_t i = 0; i < size; ++i) {
                if (out.size() == out.capacity()) out.reserve(std::min(size, 2 * out.capacity()));
                read_item(cursor, i, out.emplace_back());
            }
        } else {
            for (std::size_t i = 0; i < size; ++i) {
                if constexpr (std::is_same_v<element, bool>) {  // vector<bool> has no bool&
                    bool item = false;
                    read_item(cursor, i, item);
                    out.push_back(item);
                } else {
                    read_item(cursor, i, out.emplace_back());
                }
            }
        }
        cursor.close_container();
    }
};

/// std::array<T, N>: an array of exactly N elements (BIN/STR of exactly N bytes for bytes).
template <fixed_array_type T>
    requires has_standard_value_reader<T>
struct cursor_reader<T> {
    static constexpr std::size_t length = std::tuple_size_v<T>;

    static void read(MsgpackCursor& cursor, T& out) {
        const msgpack::object header = cursor.next();
        if constexpr (byte_element<typename T::value_type>) {
            if (header.type == msgpack::type::BIN || header.type == msgpack::type::STR) {
                const std::size_t size = header.via.str.size;
                if (size != length) throw_length_mismatch(length, size, type_name<T>());
                if (size != 0) std::memcpy(out.data(), header.via.str.ptr, size);
                return;
            }
        }
        if (header.type != msgpack::type::ARRAY) throw_type_mismatch(header, "list", type_name<T>());
        if (header.via.array.size != length) throw_length_mismatch(length, header.via.array.size, type_name<T>());
        for (std::size_t i = 0; i < length; ++i) read_item(cursor, i, out[i]);
        cursor.close_container();
    }
};

/// set/unordered_set from an array (duplicates collapse).
template <set_type T>
    requires has_standard_value_reader<T>
struct cursor_reader<T> {
    static void read(MsgpackCursor& cursor, T& out) {
        const msgpack::object header = cursor.next();
        if (header.type != msgpack::type::ARRAY) throw_type_mismatch(header, "set", type_name<T>());
        out.clear();
        for (std::size_t i = 0; i < header.via.array.size; ++i) {
            typename T::value_type item{};
            read_item(cursor, i, item);
            out.insert(std::move(item));
        }
        cursor.close_container();
    }
};

/// map/unordered_map from a map; a repeated key keeps the last value.
template <map_type T>
    requires has_standard_value_reader<T>
struct cursor_reader<T> {
    using key_type = typename T::key_type;
    using mapped_type = typename T::mapped_type;

    static void read(MsgpackCursor& cursor, T& out) {
        const msgpack::object header = cursor.next();
        if (header.type != msgpack::type::MAP) throw_type_mismatch(header, "dict", type_name<T>());
        const std::size_t size = header.via.map.size;
        out.clear();
        if constexpr (requires { out.reserve(std::size_t{}); }) out.reserve(eager_elements(size, sizeof(void*)));
        for (std::size_t i = 0; i < size; ++i) {
            const char* key_position = cursor.position();
            key_type key{};
            try {
                read_from_cursor(cursor, key);
            } catch (DecodeError& error) {
                error.prepend_location(invalid_key_location(cursor.header_at(key_position), i));
                throw;
            }
            auto [slot, inserted] = out.try_emplace(std::move(key));
            if (!inserted) slot->second = mapped_type{};
            try {
                read_from_cursor(cursor, slot->second);
            } catch (DecodeError& error) {
                error.prepend_location(key_location(cursor.header_at(key_position), i));
                throw;
            }
        }
        cursor.close_container();
    }
};

/// tuple/pair: an array of exactly tuple_size elements.
template <tuple_type T>
    requires has_standard_value_reader<T>
struct cursor_reader<T> {
    static constexpr std::size_t length = std::tuple_size_v<T>;

    static void read(MsgpackCursor& cursor, T& out) {
        const msgpack::object header = cursor.next();
        if (header.type != msgpack::type::ARRAY) throw_type_mismatch(header, "tuple", type_name<T>());
        if (header.via.array.size != length) throw_tuple_length_mismatch(length, header.via.array.size, type_name<T>());
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (read_item(cursor, I, std::get<I>(out)), ...);
        }(std::make_index_sequence<length>{});
        cursor.close_container();
    }
};

}  // namespace greenrpc::codec::detail
