#include "sniffing_protocol.hpp"

#include <stdexcept>

#include "sniffing_connection.hpp"

namespace greenrpc {

SniffingProtocol::SniffingProtocol(std::vector<std::shared_ptr<const ProtocolFactory>> protocols,
                                   std::chrono::milliseconds timeout)
    : protocols_(std::move(protocols)), timeout_(timeout) {
  if (protocols_.empty()) throw std::invalid_argument("greenrpc: SniffingProtocol without protocols");
}

std::unique_ptr<ProtocolHandler> SniffingProtocol::make(Worker& worker, std::unique_ptr<ByteStream> stream,
                                                       std::uint64_t id) const {
  return std::make_unique<SniffingConnection>(worker, *this, std::move(stream), id);
}

Match SniffingProtocol::probe(std::span<const char> first_bytes) const noexcept {
  for (const auto& p : protocols_) {
    Match m = p->probe(first_bytes);
    if (m != Match::no) return m;
  }
  return Match::no;
}

const ProtocolFactory* SniffingProtocol::choose(std::span<const char> first_bytes) const noexcept {
  for (const auto& p : protocols_) {
    Match m = p->probe(first_bytes);
    if (m == Match::yes) return p.get();
    if (m == Match::need_more) return nullptr;
  }
  return nullptr;
}

std::string_view SniffingProtocol::refusal() const noexcept { return protocols_.front()->refusal(); }

std::string_view SniffingProtocol::tls_required_refusal(std::span<const char> first_bytes) const noexcept {
  const ProtocolFactory* chosen = first_bytes.empty() ? nullptr : choose(first_bytes);
  return (chosen ? chosen : protocols_.front().get())->tls_required_refusal(first_bytes);
}

}  // namespace greenrpc
