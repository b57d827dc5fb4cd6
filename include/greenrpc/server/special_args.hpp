#pragma once
// Handler parameters filled by the framework instead of the wire (Tino's special arguments):
//   greenrpc::Auth<T>          the connection's auth value, maybe empty
//   greenrpc::AuthRequired<T>  the auth value; the command answers PERMISSION_DENIED, before any
//                              argument is decoded, when the connection has not authenticated
//   (For both, T must be the value type of App::auth's function: App::command and App::auth
//   throw std::invalid_argument on a mismatch, and starting fails if there is no auth function.)
//   greenrpc::ConnState<T>     mutable per-connection state made by App::state_factory; T may be
//                              move-only (a std::unique_ptr member) or even immovable
//   const RequestContext&      peer address, connection id, deadline
#include <any>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "greenrpc/server/connection_info.hpp"
#include "greenrpc/server/request_context.hpp"

namespace greenrpc {

template <class T>
class Auth {
 public:
  explicit Auth(const ConnectionInfo& conn) : value_(std::any_cast<T>(&conn.auth)) {}
  bool has_value() const noexcept { return value_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  const T& value() const {
    if (!value_) throw std::logic_error("greenrpc::Auth: connection is not authenticated");
    return *value_;
  }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }

 private:
  const T* value_;
};

template <class T>
class AuthRequired {
 public:
  explicit AuthRequired(const ConnectionInfo& conn) : value_(std::any_cast<T>(&conn.auth)) {}
  const T& value() const noexcept { return *value_; }
  const T& operator*() const noexcept { return *value_; }
  const T* operator->() const noexcept { return value_; }
  static bool satisfied_by(const ConnectionInfo& conn) noexcept { return std::any_cast<T>(&conn.auth) != nullptr; }

 private:
  const T* value_;
};

template <class T>
class ConnState {
 public:
  explicit ConnState(ConnectionInfo& conn) : value_(conn.state.get_if<T>()) {
    if (!value_)
      throw std::logic_error("greenrpc::ConnState: no connection state of the requested type; "
                             "register one with App::state_factory");
  }
  T& value() const noexcept { return *value_; }
  T& operator*() const noexcept { return *value_; }
  T* operator->() const noexcept { return value_; }

 private:
  T* value_;
};

namespace detail {
template <class T, template <class> class Tmpl>
struct is_instance : std::false_type {};
template <class T, template <class> class Tmpl>
struct is_instance<Tmpl<T>, Tmpl> : std::true_type {};
}  // namespace detail

// A parameter type the framework fills (not decoded from the wire).
template <class A>
inline constexpr bool is_special_arg_v =
    detail::is_instance<std::remove_cvref_t<A>, Auth>::value ||
    detail::is_instance<std::remove_cvref_t<A>, AuthRequired>::value ||
    detail::is_instance<std::remove_cvref_t<A>, ConnState>::value ||
    std::is_same_v<std::remove_cvref_t<A>, RequestContext>;

template <class A>
inline constexpr bool is_auth_required_v = detail::is_instance<std::remove_cvref_t<A>, AuthRequired>::value;

// A parameter that reads the connection's auth value: Auth<T> or AuthRequired<T>.
template <class A>
inline constexpr bool is_auth_arg_v =
    detail::is_instance<std::remove_cvref_t<A>, Auth>::value || is_auth_required_v<A>;

namespace detail {
template <class A>
struct auth_value_type;
template <template <class> class Tmpl, class T>
struct auth_value_type<Tmpl<T>> {
  using type = std::remove_cv_t<T>;
};
}  // namespace detail

// The T of an Auth<T> or AuthRequired<T> parameter: what the App's auth function must return.
template <class A>
  requires is_auth_arg_v<A>
using auth_value_t = typename detail::auth_value_type<std::remove_cvref_t<A>>::type;

}  // namespace greenrpc
