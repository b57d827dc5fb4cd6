#include "tls_protocol.hpp"

#include "greenrpc/tls/tls_stream.hpp"

namespace greenrpc {

TlsProtocol::TlsProtocol(std::shared_ptr<const ProtocolFactory> inner, std::shared_ptr<const ReloadableTlsContext> context)
    : inner_(std::move(inner)), context_(std::move(context)), name_(std::string(inner_->name()) + " over tls") {}

std::unique_ptr<ProtocolHandler> TlsProtocol::make(Worker& worker, std::unique_ptr<ByteStream> stream,
                                                  std::uint64_t id) const {
  const TlsServerOptions& o = context_->options();
  auto tls = std::make_unique<TlsStream>(std::move(stream), context_->current());
  tls->set_plaintext_refusal([inner = inner_](std::span<const char> first_bytes) {
    return inner->tls_required_refusal(first_bytes);
  });
  // From accept: a silent peer is closed then, without the fiber a handshake would hold.
  tls->set_handshake_deadline(Deadline::after(o.handshake_timeout));
  return inner_->make(worker, std::move(tls), id);
}

Match TlsProtocol::probe(std::span<const char> first_bytes) const noexcept {
  if (first_bytes.empty()) return Match::need_more;
  return static_cast<unsigned char>(first_bytes[0]) == 0x16 ? Match::yes : Match::no;
}

}  // namespace greenrpc
