#pragma once
// type_name<T>(): short, Python-flavoured names of C++ types for error messages.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <tuple>
#include <typeinfo>
#include <utility>

#include <msgpack.hpp>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/type_categories.hpp"

namespace greenrpc::codec {

/// Demangled name of a type with its namespace/class qualifiers stripped
/// ("app::v1::Point" -> "Point", "app::Box<app::Item>" -> "Box<app::Item>").
std::string short_type_name(const std::type_info& type);

/// Short name of the msgpack type of a received value: "none", "bool", "int",
/// "float", "str", "bytes", "list", "dict" or "ext".
std::string_view received_type_name(const msgpack::object& value);

/// Customization point: specialize with `static std::string make()` to name a type.
///
/// Naming scheme: "bool"; signed integers "int8", "int16", "int" (32-bit),
/// "int64"; unsigned "uint8".."uint64"; "float" (double) and "float32";
/// "str"; "bytes" (Bytes and byte vectors); "optional[T]"; "list[T]"
/// (vector/deque/list); "array[T, N]"; "set[T]"; "tuple[A, B]" (tuple/pair);
/// "dict[K, V]"; everything else (structs, enums) the demangled unqualified
/// class name.
template <typename T>
struct type_name_of {
    static std::string make() { return short_type_name(typeid(T)); }
};

namespace detail {
/// Concatenation of `parts` (one allocation).
inline std::string join_name(std::initializer_list<std::string_view> parts) {
    std::size_t size = 0;
    for (std::string_view part : parts) size += part.size();
    std::string out;
    out.reserve(size);
    for (std::string_view part : parts) out.append(part);
    return out;
}
}  // namespace detail

/// Short name of T, computed once per type.
template <typename T>
std::string_view type_name() {
    static const std::string name = type_name_of<std::remove_cvref_t<T>>::make();
    return name;
}

template <>
struct type_name_of<bool> {
    static std::string make() { return "bool"; }
};

template <integer_type T>
struct type_name_of<T> {
    static std::string make() {
        constexpr std::size_t bits = sizeof(T) * 8;
        if constexpr (std::is_signed_v<T>) {
            return bits == 32 ? std::string("int") : detail::join_name({"int", std::to_string(bits)});
        } else {
            return detail::join_name({"uint", std::to_string(bits)});
        }
    }
};

template <>
struct type_name_of<float> {
    static std::string make() { return "float32"; }
};
template <>
struct type_name_of<double> {
    static std::string make() { return "float"; }
};
template <>
struct type_name_of<long double> {
    static std::string make() { return "float"; }
};
template <>
struct type_name_of<std::string> {
    static std::string make() { return "str"; }
};
template <>
struct type_name_of<greenrpc::Bytes> {
    static std::string make() { return "bytes"; }
};
template <>
struct type_name_of<msgpack::type::nil_t> {
    static std::string make() { return "none"; }
};

template <optional_type T>
struct type_name_of<T> {
    static std::string make() {
        return detail::join_name({"optional[", type_name<typename T::value_type>(), "]"});
    }
};

template <sequence_type T>
struct type_name_of<T> {
    static std::string make() {
        if constexpr (byte_vector_type<T>) {
            return "bytes";
        } else {
            return detail::join_name({"list[", type_name<typename T::value_type>(), "]"});
        }
    }
};

template <fixed_array_type T>
struct type_name_of<T> {
    static std::string make() {
        return detail::join_name(
            {"array[", type_name<typename T::value_type>(), ", ", std::to_string(std::tuple_size_v<T>), "]"});
    }
};

template <set_type T>
struct type_name_of<T> {
    static std::string make() {
        return detail::join_name({"set[", type_name<typename T::value_type>(), "]"});
    }
};

template <map_type T>
struct type_name_of<T> {
    static std::string make() {
        return detail::join_name(
            {"dict[", type_name<typename T::key_type>(), ", ", type_name<typename T::mapped_type>(), "]"});
    }
};

template <tuple_type T>
struct type_name_of<T> {
    static std::string make() {
        std::string name = "tuple[";
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((name += (I == 0 ? "" : ", "), name += type_name<std::tuple_element_t<I, T>>()), ...);
        }(std::make_index_sequence<std::tuple_size_v<T>>{});
        return name + "]";
    }
};

}  // namespace greenrpc::codec
