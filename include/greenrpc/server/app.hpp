#pragma once
// The App: commands bound from C++ signatures, auth, connection state, lifecycle hooks (Tino's
// API in C++).
//
//   greenrpc::App app;
//   app.command("add", [](int a, NumberInput b) { return a + b.value; });
//   app.run();                                   // blocks until SIGINT/SIGTERM
//   auto server = app.start_background(opts);    // or: returns at once; server.stop() later
#include <any>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "greenrpc/codec/object_handle_reader.hpp"
#include "greenrpc/rpc/command.hpp"
#include "greenrpc/server/command_registry.hpp"
#include "greenrpc/server/handler.hpp"
#include "greenrpc/server/move_only_any.hpp"
#include "greenrpc/server/options.hpp"
#include "greenrpc/server/request_context.hpp"
#include "greenrpc/server/server.hpp"

namespace greenrpc {

// An Auth<T> or AuthRequired<T> parameter of a registered command: T must be the auth value's
// type, or the handler would never see the value.
struct AuthParameter {
  std::string command;
  const std::type_info* value_type = nullptr;  // T
  bool required = false;                       // AuthRequired<T> (else Auth<T>)
};

// The message handler's name in metrics (the `command` label), logs and error locations.
inline constexpr std::string_view kMessageHandlerName = "arrpc.message";

// Everything a running server needs from its App (shared, immutable once started).
struct AppDefinition {
  CommandRegistry registry;
  // (user, password) → auth value; empty std::any means rejected. Unset: AUTH is refused.
  std::function<std::any(const RequestContext& context, std::string_view user, std::string_view password)> authenticate;
  const std::type_info* auth_value_type = nullptr;  // what `authenticate` returns; null when unset
  std::vector<AuthParameter> auth_parameters;       // of every registered command
  // App::message_handler's (arrpc clients): named kMessageHandlerName; unset: arrpc is not served.
  std::optional<RegisteredCommand> message_handler;
  std::function<MoveOnlyAny()> make_state;
  std::vector<std::function<void()>> on_startup;
  std::vector<std::function<void()>> on_shutdown;
  // The server App::run() is serving, for App::request_stop().
  std::mutex running_mutex;
  Server* running = nullptr;
};

class App {
 public:
  App();
  // Move-only: a copy would silently share (and mutate) the original's command table.
  App(const App&) = delete;
  App& operator=(const App&) = delete;
  App(App&&) noexcept = default;
  App& operator=(App&&) noexcept = default;

  // Binds `fn`; arguments are located by position in error replies.
  template <class F>
  App& command(std::string_view name, F fn) {
    return command(name, std::vector<std::string>{}, CommandTraits{}, std::move(fn));
  }
  // Binds `fn` with argument names (["add","b"] in error replies) and traits.
  template <class F>
  App& command(std::string_view name, std::vector<std::string> arg_names, F fn) {
    return command(name, std::move(arg_names), CommandTraits{}, std::move(fn));
  }
  template <class F>
  App& command(std::string_view name, std::vector<std::string> arg_names, CommandTraits traits, F fn);

  // Implements a shared declaration; the wire arguments and result must match it exactly.
  template <class R, class... A, class F>
  App& command(const Command<R(A...)>& decl, F fn);

  // Binds a member function to an object that outlives the server.
  template <class C, class R, class... A>
  App& command(std::string_view name, R (C::*method)(A...), C* object) {
    return command(name, [object, method](A... a) -> R { return (object->*method)(std::forward<A>(a)...); });
  }
  template <class C, class R, class... A>
  App& command(std::string_view name, R (C::*method)(A...) const, const C* object) {
    return command(name, [object, method](A... a) -> R { return (object->*method)(std::forward<A>(a)...); });
  }

  // arrpc's handler (adrianchifor/arrpc 0.5.0's `handler(message)`): `fn` answers every message
  // of an arrpc client — bare msgpack over TCP or TLS, on the same port as RESP, the connection's
  // first byte choosing (docs/protocol.md, "arrpc wire"). Without a message handler the server
  // speaks RESP only. `fn` takes the message as a msgpack::object (by value or const&: it, and
  // what it points into, live for the call) or as any type the codec decodes (a
  // MSGPACK_DEFINE_MAP model: a message that does not fit is answered arrpc's RpcException with
  // the validation error); it may also take the special parameters RequestContext& and
  // ConnState<T> (not Auth<T>: arrpc has no AUTH). Its result is encoded as the reply.
  // greenrpc::RpcError reaches the client as arrpc's RpcException with its text, and so does any
  // other exception (arrpc's server would drop the connection; greenrpc answers and keeps it).
  // Cancellation on stop, in-flight counts, metrics and logs apply as to a command named
  // "arrpc.message" (arrpc carries no deadline). Once per App (std::logic_error otherwise).
  template <class F>
  App& message_handler(F fn);

  // The auth function: `fn(password)`, `fn(user, password)` or `fn(context, user, password)` (a
  // `const RequestContext&` first: the peer, and under mutual TLS its certificate, to authorise
  // by) returns std::optional<T>; a value authenticates the connection (Auth<T> /
  // AuthRequired<T> then see it), nullopt refuses it.
  // T must be copyable. Throws std::invalid_argument if a registered command takes Auth<U> or
  // AuthRequired<U> with U not T (and command() throws likewise when registered afterwards).
  template <class F>
  App& auth(F fn);
  // Per-connection state: `fn()` returns a T, made when a connection opens (ConnState<T>). T
  // may be move-only; it is built in place from fn()'s result, so it need not even be movable.
  template <class F>
  App& state_factory(F fn) {
    static_assert(std::is_invocable_v<F&>, "the state factory takes no arguments");
    static_assert(!std::is_void_v<std::invoke_result_t<F&>>, "the state factory must return the state");
    def_->make_state = [fn = std::move(fn)]() mutable { return MoveOnlyAny::from_factory(fn); };
    return *this;
  }
  App& on_startup(std::function<void()> hook);
  App& on_shutdown(std::function<void()> hook);

  // Serves until SIGINT or SIGTERM (or request_stop()), then stops gracefully — Server::stop()'s
  // bounded sequence; a second signal skips the rest of the grace period. Runs the hooks.
  // SIGHUP reloads the TLS certificate (Server::reload_tls); without TLS it is logged and
  // ignored (it no longer ends the process).
  void run(const ServerOptions& options = {});
  // Makes run() stop and return; returns at once. Thread-safe: from a handler (an admin
  // "shutdown" command) or any thread. No effect when run() is not serving.
  void request_stop();
  // Starts serving in background threads and returns at once. Throws if it cannot listen, and
  // std::invalid_argument if a command takes Auth<T> / AuthRequired<T> but there is no auth().
  Server start_background(const ServerOptions& options = {});

  const CommandRegistry& registry() const { return def_->registry; }

 private:
  // Throws std::invalid_argument naming both types if `parameter` cannot see values of the
  // type `auth_value_type` (null: no auth function yet, nothing to check).
  static void check_auth_parameter(const AuthParameter& parameter, const std::type_info* auth_value_type);
  // Checks every registered command against the new auth value type, then records it.
  void set_auth_value_type(const std::type_info& type);
  // Throws std::invalid_argument if a command reads the auth value but there is no auth function.
  void check_auth_function_present() const;

  std::shared_ptr<AppDefinition> def_;
};

// ---- template definitions ------------------------------------------------------------------

namespace detail {
template <class Tuple, std::size_t... I>
std::vector<AuthParameter> auth_parameters_of(const std::string& command, std::index_sequence<I...>) {
  std::vector<AuthParameter> found;
  (
      [&] {
        using A = std::tuple_element_t<I, Tuple>;
        if constexpr (is_auth_arg_v<A>) found.push_back(AuthParameter{command, &typeid(auth_value_t<A>), is_auth_required_v<A>});
      }(),
      ...);
  return found;
}
// The Auth<T> / AuthRequired<T> parameters of a handler whose parameter types are `Tuple`.
template <class Tuple>
std::vector<AuthParameter> auth_parameters_of(const std::string& command) {
  return auth_parameters_of<Tuple>(command, std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}
}  // namespace detail

namespace detail {
// What the registry and COMMAND DOCS know of a handler bound as `Bound` under `name`.
template <class Bound>
std::shared_ptr<CommandInfo> command_info(std::string_view name) {
  auto info = std::make_shared<CommandInfo>();
  info->name = std::string(name);
  info->arg_types = Bound::wire_type_names();
  if constexpr (std::is_void_v<typename Bound::result_type>)
    info->result_type = "nil";
  else
    info->result_type = std::string(codec::type_name<std::remove_cvref_t<typename Bound::result_type>>());
  info->arity = Bound::wire_arity;
  return info;
}
}  // namespace detail

template <class F>
App& App::command(std::string_view name, std::vector<std::string> arg_names, CommandTraits traits, F fn) {
  using Bound = detail::BoundHandler<F>;
  std::shared_ptr<CommandInfo> info = detail::command_info<Bound>(name);
  info->traits = std::move(traits);
  if (!arg_names.empty() && arg_names.size() != info->arity)
    throw std::invalid_argument("greenrpc: command '" + info->name + "' has " + std::to_string(info->arity) +
                                " wire arguments but " + std::to_string(arg_names.size()) + " names");
  info->arg_names = std::move(arg_names);
  std::vector<AuthParameter> auth_parameters =
      detail::auth_parameters_of<typename codec::function_traits<F>::raw_args>(info->name);
  for (const AuthParameter& p : auth_parameters) check_auth_parameter(p, def_->auth_value_type);
  std::shared_ptr<const CommandInfo> shared = info;
  def_->registry.add(RegisteredCommand{shared, Bound(std::move(fn), shared)});
  for (AuthParameter& p : auth_parameters) def_->auth_parameters.push_back(std::move(p));
  return *this;
}

namespace detail {
template <class... Tuples>
struct tuple_concat {
  using type = std::tuple<>;
};
template <class... A>
struct tuple_concat<std::tuple<A...>> {
  using type = std::tuple<A...>;
};
template <class... A, class... B, class... Rest>
struct tuple_concat<std::tuple<A...>, std::tuple<B...>, Rest...> {
  using type = typename tuple_concat<std::tuple<A..., B...>, Rest...>::type;
};
template <class Tuple, class Seq>
struct wire_args;
template <class Tuple, std::size_t... I>
struct wire_args<Tuple, std::index_sequence<I...>> {
  using type = typename tuple_concat<
      std::conditional_t<is_special_arg_v<std::tuple_element_t<I, Tuple>>, std::tuple<>,
                         std::tuple<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>>...>::type;
};
// The parameters of a handler that come from the wire, decayed.
template <class Tuple>
using wire_args_t = typename wire_args<Tuple, std::make_index_sequence<std::tuple_size_v<Tuple>>>::type;
}  // namespace detail

template <class R, class... A, class F>
App& App::command(const Command<R(A...)>& decl, F fn) {
  using Traits = codec::function_traits<F>;
  static_assert(std::is_same_v<detail::wire_args_t<typename Traits::raw_args>, typename Command<R(A...)>::args_tuple>,
                "the handler's wire arguments must match the Command declaration");
  static_assert(std::is_convertible_v<typename Traits::result_type, R>,
                "the handler's result must convert to the Command declaration's result");
  return command(decl.name(), decl.arg_names(), decl.traits(), std::move(fn));
}

namespace detail {
// A message handler's msgpack::object parameter is decoded as an owning msgpack::object_handle.
template <class A>
using message_param_t =
    std::conditional_t<std::is_same_v<std::remove_cvref_t<A>, msgpack::object>, msgpack::object_handle, A>;
template <class A, class P>
decltype(auto) message_arg(P& parameter) {
  if constexpr (std::is_same_v<std::remove_cvref_t<A>, msgpack::object>) {
    static_assert(!std::is_lvalue_reference_v<A> || std::is_const_v<std::remove_reference_t<A>>,
                  "a message handler takes its msgpack::object by value or const&");
    return parameter.get();
  } else {
    return std::forward<A>(parameter);
  }
}
template <class... A>
constexpr bool any_auth_arg(std::tuple<A...>*) {
  return (false || ... || is_auth_arg_v<A>);
}
// `fn` with its msgpack::object parameters taken as object_handles (the codec decodes those).
template <class F, class... A>
auto adapt_message_handler(F fn, std::tuple<A...>*) {
  using R = typename codec::function_traits<F>::result_type;
  return [fn = std::move(fn)](message_param_t<A>... args) mutable -> R { return fn(message_arg<A>(args)...); };
}
}  // namespace detail

template <class F>
App& App::message_handler(F fn) {
  using Raw = typename codec::function_traits<F>::raw_args;
  auto adapted = detail::adapt_message_handler(std::move(fn), static_cast<Raw*>(nullptr));
  using Bound = detail::BoundHandler<decltype(adapted)>;
  static_assert(Bound::wire_arity == 1, "a message handler takes exactly one message parameter (plus special ones)");
  static_assert(!detail::any_auth_arg(static_cast<Raw*>(nullptr)),
                "a message handler cannot take Auth<T> or AuthRequired<T>: arrpc has no AUTH");
  if (def_->message_handler) throw std::logic_error("greenrpc: App::message_handler is already set");
  std::shared_ptr<const CommandInfo> shared = detail::command_info<Bound>(kMessageHandlerName);
  def_->message_handler = RegisteredCommand{shared, Bound(std::move(adapted), shared)};
  return *this;
}

namespace detail {
template <class F>
using auth_result_t = typename std::conditional_t<
    std::is_invocable_v<F&, const RequestContext&, std::string_view, std::string_view>,
    std::invoke_result<F&, const RequestContext&, std::string_view, std::string_view>,
    std::conditional_t<std::is_invocable_v<F&, std::string_view, std::string_view>,
                       std::invoke_result<F&, std::string_view, std::string_view>,
                       std::invoke_result<F&, std::string_view>>>::type;
}  // namespace detail

template <class F>
App& App::auth(F fn) {
  static_assert(std::is_invocable_v<F&, const RequestContext&, std::string_view, std::string_view> ||
                    std::is_invocable_v<F&, std::string_view, std::string_view> || std::is_invocable_v<F&, std::string_view>,
                "auth function must take (password), (user, password) as std::string_view, or "
                "(const RequestContext&, user, password)");
  // The value type T of the std::optional<T> (or other *-dereferenceable) the function returns.
  using Value = std::remove_cvref_t<decltype(*std::declval<detail::auth_result_t<F>&>())>;
  static_assert(std::is_copy_constructible_v<Value>,
                "the auth value must be copyable (it is kept in std::any); wrap a move-only one in std::shared_ptr");
  set_auth_value_type(typeid(Value));
  if constexpr (std::is_invocable_v<F&, const RequestContext&, std::string_view, std::string_view>) {
    def_->authenticate = [fn = std::move(fn)](const RequestContext& context, std::string_view user,
                                              std::string_view password) -> std::any {
      auto v = fn(context, user, password);
      return v ? std::any(std::move(*v)) : std::any();
    };
  } else if constexpr (std::is_invocable_v<F&, std::string_view, std::string_view>) {
    def_->authenticate = [fn = std::move(fn)](const RequestContext&, std::string_view user, std::string_view password) -> std::any {
      auto v = fn(user, password);
      return v ? std::any(std::move(*v)) : std::any();
    };
  } else {
    def_->authenticate = [fn = std::move(fn)](const RequestContext&, std::string_view, std::string_view password) -> std::any {
      auto v = fn(password);
      return v ? std::any(std::move(*v)) : std::any();
    };
  }
  return *this;
}

}  // namespace greenrpc
