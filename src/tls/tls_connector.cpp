#include "greenrpc/tls/tls_connector.hpp"

#include "greenrpc/tls/tls_stream.hpp"

namespace greenrpc {

std::unique_ptr<Connector> make_tls_connector(std::string host, std::uint16_t port,
                                              std::shared_ptr<const TlsContext> context) {
  auto layer = [context = std::move(context), host](std::unique_ptr<ByteStream> tcp) -> std::unique_ptr<ByteStream> {
    return std::make_unique<TlsStream>(std::move(tcp), context, host);
  };
  return std::make_unique<TcpConnector>(std::move(host), port, std::move(layer));
}

}  // namespace greenrpc
