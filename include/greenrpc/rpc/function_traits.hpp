#pragma once
// function_traits<F>: the signature (result and argument types) of a callable.

#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>

namespace greenrpc::codec {

namespace detail {

/// What every callable exposes, given its result type R and parameters A...
template <bool IsNoexcept, typename R, typename... A>
struct signature_traits {
    using result_type = R;
    using args_tuple = std::tuple<std::decay_t<A>...>;  ///< decayed: what a decoder must produce
    using raw_args = std::tuple<A...>;                  ///< exactly as declared
    static constexpr std::size_t arity = sizeof...(A);
    static constexpr bool is_noexcept = IsNoexcept;

    /// The I-th parameter type, exactly as declared.
    template <std::size_t I>
    using arg = std::tuple_element_t<I, raw_args>;
};

/// Traits of a callable type with cv/ref already stripped.
template <typename F>
struct callable_traits {
    static_assert(sizeof(F) == 0,
                  "function_traits: F must be a function, function pointer, member function "
                  "pointer or a functor with exactly one non-template operator()");
};

template <typename R, typename... A>
struct callable_traits<R(A...)> : signature_traits<false, R, A...> {};
template <typename R, typename... A>
struct callable_traits<R(A...) noexcept> : signature_traits<true, R, A...> {};
template <typename R, typename... A>
struct callable_traits<R (*)(A...)> : signature_traits<false, R, A...> {};
template <typename R, typename... A>
struct callable_traits<R (*)(A...) noexcept> : signature_traits<true, R, A...> {};

/// Member function pointers additionally expose the class they belong to.
template <typename C, bool IsNoexcept, typename R, typename... A>
struct member_signature_traits : signature_traits<IsNoexcept, R, A...> {
    using class_type = C;
    /// The same signature without class_type (used for functors).
    using plain_signature = signature_traits<IsNoexcept, R, A...>;
};

// Every qualifier combination a member function may carry: cv x ref x noexcept.
#define GREENRPC_MEMBER_TRAITS(QUALIFIERS)                                              \
    template <typename R, typename C, typename... A>                                     \
    struct callable_traits<R (C::*)(A...) QUALIFIERS>                                    \
        : member_signature_traits<C, false, R, A...> {};                                 \
    template <typename R, typename C, typename... A>                                     \
    struct callable_traits<R (C::*)(A...) QUALIFIERS noexcept>                           \
        : member_signature_traits<C, true, R, A...> {};
GREENRPC_MEMBER_TRAITS()
GREENRPC_MEMBER_TRAITS(const)
GREENRPC_MEMBER_TRAITS(volatile)
GREENRPC_MEMBER_TRAITS(const volatile)
GREENRPC_MEMBER_TRAITS(&)
GREENRPC_MEMBER_TRAITS(const&)
GREENRPC_MEMBER_TRAITS(volatile&)
GREENRPC_MEMBER_TRAITS(const volatile&)
GREENRPC_MEMBER_TRAITS(&&)
GREENRPC_MEMBER_TRAITS(const&&)
GREENRPC_MEMBER_TRAITS(volatile&&)
GREENRPC_MEMBER_TRAITS(const volatile&&)
#undef GREENRPC_MEMBER_TRAITS

/// Lambdas, std::function and other functors: the signature of their operator().
template <typename F>
    requires requires { &F::operator(); }
struct callable_traits<F> : callable_traits<decltype(&F::operator())>::plain_signature {};

}  // namespace detail

/// Signature of a callable F: lambdas and functors (non-generic operator(),
/// const or mutable, noexcept or not), functions, function pointers and
/// references, std::function, and member function pointers. Exposes
/// `result_type`, `args_tuple` (decayed), `raw_args` (as declared), `arity`,
/// `is_noexcept`, `arg<I>`, and `class_type` for member function pointers.
/// cv/ref qualifiers on F itself are ignored.
template <typename F>
struct function_traits : detail::callable_traits<std::remove_cvref_t<F>> {};

}  // namespace greenrpc::codec
