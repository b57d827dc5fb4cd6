#pragma once
// A Connector for TLS over TCP: connects, then runs the TLS handshake (verifying the server as
// `context` says) within the same deadline. Verification failures come out as TlsError, which
// the client does not retry; a failed or timed-out connect as ConnectError, which it does.
#include <cstdint>
#include <memory>
#include <string>

#include "greenrpc/net/connector.hpp"
#include "greenrpc/tls/tls_context.hpp"

namespace greenrpc {

std::unique_ptr<Connector> make_tls_connector(std::string host, std::uint16_t port,
                                              std::shared_ptr<const TlsContext> context);

}  // namespace greenrpc
