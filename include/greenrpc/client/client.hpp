#pragma once
// The greenrpc client.
//
//   greenrpc::Client client{"127.0.0.1", 7777};
//   int r = client.call<int>("add", 1, NumberInput{2});
//   int s = client.call(add, 1, NumberInput{2});          // a shared Command declaration
//   auto f = client.call_async<int>("add", 1, NumberInput{2});  ... f.get();
//
// Works from a plain thread with no runtime (blocks that thread — the legacy-code case) and from
// inside a fiber or a handler (parks only the fiber). Safe to share between threads and fibers:
// concurrent calls are pipelined over its connection(s) and replies matched in order. The
// connections live on the client's own I/O thread, or on an EventLoopThread you pass in:
//
//   greenrpc::EventLoopThread loop;                       // outlives the clients on it
//   greenrpc::Client a{"10.0.0.1", 7777, {}, loop}, b{"10.0.0.2", 7777, {}, loop};
//   loop.spawn_fiber([&] { int r = a.call<int>("add", 1, NumberInput{2}); });  // no thread hop
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "greenrpc/client/errors.hpp"
#include "greenrpc/client/future.hpp"
#include "greenrpc/client/options.hpp"
#include "greenrpc/client/pending_call.hpp"
#include "greenrpc/client/reply_decoding.hpp"
#include "greenrpc/rpc/command.hpp"
#include "greenrpc/codec/encode.hpp"
#include "greenrpc/protocol/resp_writer.hpp"

namespace greenrpc {

class EventLoopThread;

class Client {
 public:
  Client(std::string host, std::uint16_t port, ClientOptions options = {});
  // Runs the connections on `loop` instead of a thread of the client's own: clients can share a
  // loop, and calls from fibers of that loop reach the connection and get their reply with no
  // thread hop. `loop` must outlive the client. Destroy the client from a plain thread or from a
  // fiber (not from a task posted to the loop).
  Client(std::string host, std::uint16_t port, ClientOptions options, EventLoopThread& loop);
  // Cancels what is queued or in flight (CancelledError) and waits for the connections' fibers:
  // blocks a plain thread, parks a fiber, briefly — never interrupted. Do not let a Client be
  // destroyed by stack unwinding inside a fiber (Boost 1.74 corrupts the exception state when a
  // fiber parks during unwinding): destroy it after the catch block.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // By name; R is the expected result type (void ignores the result).
  template <class R, class... A>
  R call(std::string_view command, const A&... args) {
    return call<R>(CallOptions{}, command, args...);
  }
  template <class R, class... A>
  R call(const CallOptions& opts, std::string_view command, const A&... args) {
    return call_async<R>(opts, command, args...).get();
  }
  // Through a shared declaration: argument and result types are checked at compile time.
  template <class R, class... P, class... A>
  R call(const Command<R(P...)>& cmd, A&&... args) {
    return call(CallOptions{}, cmd, std::forward<A>(args)...);
  }
  template <class R, class... P, class... A>
  R call(const CallOptions& opts, const Command<R(P...)>& cmd, A&&... args) {
    return call_async(opts, cmd, std::forward<A>(args)...).get();
  }

  // Asynchronous forms, for fan-out: send now, get() later.
  template <class R, class... A>
  Future<R> call_async(std::string_view command, const A&... args) {
    return call_async<R>(CallOptions{}, command, args...);
  }
  template <class R, class... A>
  Future<R> call_async(const CallOptions& opts, std::string_view command, const A&... args) {
    return Future<R>(submit(encode_body(command, args...), 1 + sizeof...(A), opts), options_.decode_limits);
  }
  template <class R, class... P, class... A>
  Future<R> call_async(const CallOptions& opts, const Command<R(P...)>& cmd, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "wrong number of arguments for this Command");
    static_assert((std::is_convertible_v<A&&, P> && ...), "argument types do not match the Command declaration");
    CallOptions effective = opts;
    effective.idempotent = opts.idempotent || cmd.idempotent();
    return call_async<R>(effective, cmd.name(), as_param<P>(std::forward<A>(args))...);
  }
  template <class R, class... P, class... A>
  Future<R> call_async(const Command<R(P...)>& cmd, A&&... args) {
    return call_async(CallOptions{}, cmd, std::forward<A>(args)...);
  }

  // A raw RESP command (built-ins such as PING, INFO): parts are sent as bulk strings as they are.
  protocol::RespValue command(std::span<const std::string_view> parts, const CallOptions& opts = {});
  // PING; returns "PONG".
  std::string ping();

  // Makes an error reply with `code` rethrow as E(message) — typically the very type the handler
  // threw (a CommandError subclass whose constructor passes `code`). Call during setup.
  template <class E>
  void map_error(std::string code) {
    register_error(std::move(code), [](const std::string&, const std::string& message) { throw E(message); });
  }

  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }
  const ClientOptions& options() const noexcept { return options_; }

 private:
  // The request's elements as RESP bulk strings (the array header is added when it is sent).
  template <class... A>
  static std::string encode_body(std::string_view command, const A&... args) {
    std::string frame;
    std::string scratch;
    protocol::append_bulk(frame, command);
    (
        [&] {
          scratch.clear();
          codec::encode(scratch, args);
          protocol::append_bulk(frame, scratch);
        }(),
        ...);
    return frame;
  }
  // An argument as the declared parameter type: as it is when it already has that type (no
  // copy), converted otherwise.
  template <class P, class A>
  static decltype(auto) as_param(A&& arg) {
    if constexpr (std::is_same_v<std::remove_cvref_t<P>, std::remove_cvref_t<A>>) {
      return static_cast<const std::remove_cvref_t<A>&>(arg);
    } else {
      return static_cast<std::remove_cvref_t<P>>(std::forward<A>(arg));
    }
  }
  std::shared_ptr<detail::PendingCall> submit(std::string body, std::uint32_t elements, const CallOptions& opts);
  void register_error(std::string code, detail::ErrorThrower thrower);

  struct Impl;
  std::string host_;
  std::uint16_t port_;
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace greenrpc
