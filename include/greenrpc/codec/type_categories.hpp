#pragma once
// Concepts classifying the standard types the codec validates itself.

#include <array>
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace greenrpc::codec {

namespace detail {
template <typename T, template <typename...> class Template>
inline constexpr bool is_specialization_of = false;
template <template <typename...> class Template, typename... A>
inline constexpr bool is_specialization_of<Template<A...>, Template> = true;

template <typename T>
inline constexpr bool is_std_array = false;
template <typename T, std::size_t N>
inline constexpr bool is_std_array<std::array<T, N>> = true;
}  // namespace detail

/// Integers other than bool (char types included: msgpack-cxx packs them as integers).
template <typename T>
concept integer_type = std::is_integral_v<T> && !std::is_same_v<T, bool>;

/// std::optional<T>.
template <typename T>
concept optional_type = detail::is_specialization_of<T, std::optional>;

/// Element types whose std::vector / std::array msgpack-cxx packs as BIN.
template <typename T>
concept byte_element = std::is_same_v<T, char> || std::is_same_v<T, unsigned char> ||
                       std::is_same_v<T, std::byte>;

/// Growable sequences decoded from a msgpack array: vector, deque, list.
template <typename T>
concept sequence_type = detail::is_specialization_of<T, std::vector> ||
                        detail::is_specialization_of<T, std::deque> ||
                        detail::is_specialization_of<T, std::list>;

/// std::vector of bytes, which msgpack-cxx packs as BIN.
template <typename T>
concept byte_vector_type =
    detail::is_specialization_of<T, std::vector> && byte_element<typename T::value_type>;

/// std::array<T, N>.
template <typename T>
concept fixed_array_type = detail::is_std_array<T>;

/// std::tuple and std::pair: a msgpack array of exactly tuple_size elements.
template <typename T>
concept tuple_type =
    detail::is_specialization_of<T, std::tuple> || detail::is_specialization_of<T, std::pair>;

/// std::map and std::unordered_map.
template <typename T>
concept map_type =
    detail::is_specialization_of<T, std::map> || detail::is_specialization_of<T, std::unordered_map>;

/// std::set and std::unordered_set.
template <typename T>
concept set_type =
    detail::is_specialization_of<T, std::set> || detail::is_specialization_of<T, std::unordered_set>;

}  // namespace greenrpc::codec
