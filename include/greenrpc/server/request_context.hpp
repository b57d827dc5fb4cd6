#pragma once
// What a handler can learn about the request it serves. Take `const greenrpc::RequestContext&`
// as a parameter anywhere in a handler's signature; it is filled by the framework, not the wire.
#include <cstdint>
#include <string_view>

#include "greenrpc/net/endpoint.hpp"
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

class RequestContext {
 public:
  RequestContext(std::uint64_t connection_id, const Endpoint& peer, std::string_view command, unsigned worker)
      : connection_id_(connection_id), peer_(peer), command_(command), worker_(worker) {}

  std::uint64_t connection_id() const noexcept { return connection_id_; }
  const Endpoint& peer() const noexcept { return peer_; }
  std::string_view command() const noexcept { return command_; }
  unsigned worker() const noexcept { return worker_; }  // index of the worker thread serving it
  // The caller's deadline for this request (never, unless the client sent one).
  Deadline deadline() const noexcept { return deadline_; }
  void set_deadline(Deadline d) noexcept { deadline_ = d; }
  // Starts stopping the server serving this request, in the background (Server::request_stop):
  // for an admin "shutdown" command. Returns at once; this request still gets its reply, within
  // the grace period. Under App::run(), run() then returns.
  void request_server_stop() const;

 private:
  std::uint64_t connection_id_;
  const Endpoint& peer_;
  std::string_view command_;
  unsigned worker_;
  Deadline deadline_;
};

}  // namespace greenrpc
