#pragma once
// Binds a C++ callable to the wire: decodes each msgpack argument into the parameter's type, fills
// special arguments, calls, encodes the result, and turns every failure into an error reply.
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"
#include "greenrpc/rpc/function_traits.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/rpc/command_error.hpp"
#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/runtime/fiber_properties.hpp"
#include "greenrpc/rpc/reply_encoder.hpp"
#include "greenrpc/server/command_info.hpp"
#include "greenrpc/server/special_args.hpp"

namespace greenrpc {

// One invocation, as the dispatcher hands it to a handler.
struct HandlerCall {
  std::span<const std::string_view> args;  // wire arguments, command name excluded
  ConnectionInfo& conn;
  RequestContext& request;
  const codec::DecodeLimits& limits;
  std::string& scratch;  // reused buffer for the encoded result
  ReplyEncoder& reply;   // the reply goes out through it
};

using Handler = std::function<void(HandlerCall&)>;

namespace detail {

// Error replies (non-template, in handler.cpp). `index` is the wire position of the argument.
void reply_arity_mismatch(HandlerCall& call, const CommandInfo& info);
void reply_permission_denied(HandlerCall& call);
void reply_decode_failure(HandlerCall& call, const CommandInfo& info, std::size_t index,
                          const codec::DecodeError& error);
void reply_error(HandlerCall& call, std::string_view code, std::string_view message);
void reply_result(HandlerCall& call);  // the result: the msgpack bytes in call.scratch

template <class F>
class BoundHandler {
  template <class T, template <class> class Tmpl>
  using is_instance = greenrpc::detail::is_instance<T, Tmpl>;
  using Traits = codec::function_traits<F>;
  using Raw = typename Traits::raw_args;
  static constexpr std::size_t N = std::tuple_size_v<Raw>;
  template <std::size_t I>
  using RawAt = std::tuple_element_t<I, Raw>;
  template <class A>
  using Stored = std::conditional_t<std::is_same_v<std::remove_cvref_t<A>, RequestContext>,
                                    std::reference_wrapper<RequestContext>, std::remove_cvref_t<A>>;

  template <std::size_t... I>
  static constexpr std::size_t count_wire(std::index_sequence<I...>) {
    return (std::size_t{0} + ... + (is_special_arg_v<RawAt<I>> ? 0 : 1));
  }
  template <std::size_t... I>
  static constexpr bool any_auth_required(std::index_sequence<I...>) {
    return (false || ... || is_auth_required_v<RawAt<I>>);
  }
  // Every AuthRequired<T> parameter finds an auth value of type T on the connection.
  template <std::size_t... I>
  static bool auth_satisfied(const ConnectionInfo& conn, std::index_sequence<I...>) {
    return (true && ... && [&] {
      if constexpr (is_auth_required_v<RawAt<I>>)
        return std::remove_cvref_t<RawAt<I>>::satisfied_by(conn);
      else
        return true;
    }());
  }
  template <std::size_t I>
  static constexpr std::size_t wire_index() {
    return count_wire(std::make_index_sequence<I>{});
  }

 public:
  static constexpr std::size_t wire_arity = count_wire(std::make_index_sequence<N>{});
  static constexpr bool requires_auth = any_auth_required(std::make_index_sequence<N>{});
  using result_type = typename Traits::result_type;

  BoundHandler(F fn, std::shared_ptr<const CommandInfo> info) : fn_(std::move(fn)), info_(std::move(info)) {}

  void operator()(HandlerCall& call) {
    if (call.args.size() != wire_arity) return reply_arity_mismatch(call, *info_);
    if constexpr (requires_auth) {
      if (!auth_satisfied(call.conn, std::make_index_sequence<N>{})) return reply_permission_denied(call);
    }
    invoke(call, std::make_index_sequence<N>{});
  }

  // Wire argument type names, in order, for COMMAND DOCS.
  static std::vector<std::string> wire_type_names() {
    std::vector<std::string> names;
    collect_types(names, std::make_index_sequence<N>{});
    return names;
  }

 private:
  template <std::size_t... I>
  static void collect_types(std::vector<std::string>& names, std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (!is_special_arg_v<RawAt<I>>) names.emplace_back(codec::type_name<std::remove_cvref_t<RawAt<I>>>());
        }(),
        ...);
  }

  template <std::size_t I>
  static Stored<RawAt<I>> make_arg(HandlerCall& call, std::size_t& current) {
    using A = std::remove_cvref_t<RawAt<I>>;
    if constexpr (std::is_same_v<A, RequestContext>) {
      return std::ref(call.request);
    } else if constexpr (is_special_arg_v<A>) {  // Auth, AuthRequired, ConnState: views of the connection
      return A(call.conn);
    } else {
      current = wire_index<I>();
      return codec::decode<A>(call.args[current], call.limits);
    }
  }

  // Passes lvalue-reference parameters an lvalue, everything else an rvalue (no copies).
  template <class A, class S>
  static decltype(auto) pass(S& stored) {
    if constexpr (std::is_same_v<std::remove_cvref_t<A>, RequestContext>)
      return stored.get();
    else if constexpr (std::is_lvalue_reference_v<A>)
      return (stored);
    else
      return std::move(stored);
  }

  template <std::size_t... I>
  void invoke(HandlerCall& call, std::index_sequence<I...>) {
    std::optional<std::tuple<Stored<RawAt<I>>...>> values;
    std::size_t current = 0;
    // Catch blocks only record what failed; replies are written after leaving them
    // (boost-fiber-pitfalls.md: never switch fibers inside a catch).
    enum class Failure { none, decode, unexpected } failure = Failure::none;
    std::optional<codec::DecodeError> decode_error;
    std::string message;
    try {
      values.emplace(std::tuple<Stored<RawAt<I>>...>{make_arg<I>(call, current)...});  // braces: left to right
    } catch (const codec::DecodeError& e) {
      failure = Failure::decode;
      decode_error.emplace(e);
    } catch (const std::exception& e) {
      failure = Failure::unexpected;
      message = e.what();
    } catch (...) {
      failure = Failure::unexpected;
      message = "unknown exception while reading the arguments";
    }
    if (failure == Failure::unexpected) return reply_error(call, error_code::unexpected_error, message);
    if (failure == Failure::decode) return reply_decode_failure(call, *info_, current, *decode_error);

    std::string code;
    try {
      call.scratch.clear();
      if constexpr (std::is_void_v<result_type>) {
        fn_(pass<RawAt<I>>(std::get<I>(*values))...);
        codec::encode_nil(call.scratch);
      } else {
        codec::encode(call.scratch, fn_(pass<RawAt<I>>(std::get<I>(*values))...));
      }
    } catch (const CommandError& e) {
      code = e.code();
      message = e.what();
    } catch (const DeadlineExceededError& e) {  // the caller's deadline passed while it ran
      code = error_code::deadline_exceeded;
      message = e.what();
    } catch (const CancelledError& e) {
      // CANCELLED only when this request was cancelled (the server is stopping); another
      // cancellation (a closed client the handler used) is the handler's own failure.
      const FiberProperties* props = FiberProperties::current();
      code = props && props->token && props->token->cancelled() ? error_code::cancelled : error_code::unexpected_error;
      message = e.what();
    } catch (const std::exception& e) {
      code = error_code::unexpected_error;
      message = e.what();
    } catch (...) {
      code = error_code::unexpected_error;
      message = "unknown exception";
    }
    if (!code.empty()) return reply_error(call, code, message);
    reply_result(call);
  }

  F fn_;
  std::shared_ptr<const CommandInfo> info_;
};

}  // namespace detail
}  // namespace greenrpc
