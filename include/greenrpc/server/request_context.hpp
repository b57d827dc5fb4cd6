#pragma once
// What a handler can learn about the request it serves. Take `const greenrpc::RequestContext&`
// as a parameter anywhere in a handler's signature; it is filled by the framework, not the wire.
#include <cstdint>
#include <string_view>

#include "greenrpc/net/endpoint.hpp"
#include "greenrpc/net/tls_info.hpp"
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

class RequestContext {
 public:
  RequestContext(std::uint64_t connection_id, const Endpoint& peer, std::string_view command, unsigned worker,
                 const TlsInfo* tls = nullptr)
      : connection_id_(connection_id), peer_(peer), command_(command), worker_(worker), tls_(tls) {}

  std::uint64_t connection_id() const noexcept { return connection_id_; }
  const Endpoint& peer() const noexcept { return peer_; }
  std::string_view command() const noexcept { return command_; }
  unsigned worker() const noexcept { return worker_; }  // index of the worker thread serving it
  // The connection's TLS session (version, cipher, SNI), null over plaintext.
  const TlsInfo* tls() const noexcept { return tls_; }
  // The client's verified certificate (mutual TLS): authorise by its subject or SANs. Null over
  // plaintext or when the client sent none.
  const PeerCertificate* peer_certificate() const noexcept {
    return tls_ && tls_->peer_certificate ? &*tls_->peer_certificate : nullptr;
  }
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
  const TlsInfo* tls_;
  Deadline deadline_;
};

}  // namespace greenrpc
