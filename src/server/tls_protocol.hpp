#pragma once
// A protocol served over TLS: wraps each accepted stream in a TlsStream (with the server's
// current, reloadable TLS context) and hands it to the inner protocol, whose connection runs the
// handshake first (ByteStream::handshake) within ServerOptions::tls.handshake_timeout. In a
// SniffingProtocol it claims connections whose first byte opens a TLS record (0x16).
#include <chrono>
#include <memory>

#include "greenrpc/tls/tls_context.hpp"
#include "protocol_factory.hpp"

namespace greenrpc {

class TlsProtocol final : public ProtocolFactory {
 public:
  TlsProtocol(std::shared_ptr<const ProtocolFactory> inner, std::shared_ptr<const ReloadableTlsContext> context);

  std::string_view name() const noexcept override { return name_; }
  std::unique_ptr<ProtocolHandler> make(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id) const override;
  Match probe(std::span<const char> first_bytes) const noexcept override;
  // Sent in the clear before the handshake (the connection is closed at once): the peer reads
  // it as a failed handshake, which is what it is.
  std::string_view refusal() const noexcept override { return inner_->refusal(); }

 private:
  std::shared_ptr<const ProtocolFactory> inner_;
  std::shared_ptr<const ReloadableTlsContext> context_;
  std::string name_;
};

}  // namespace greenrpc
