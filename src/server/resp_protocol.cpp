#include "resp_protocol.hpp"

#include "resp_connection.hpp"

namespace greenrpc {

std::unique_ptr<ProtocolHandler> RespProtocol::make(Worker& worker, std::unique_ptr<ByteStream> stream,
                                                   std::uint64_t id) const {
  return std::make_unique<RespConnection>(worker, std::move(stream), id);
}

Match RespProtocol::probe(std::span<const char> first_bytes) const noexcept {
  if (first_bytes.empty()) return Match::need_more;
  unsigned char c = static_cast<unsigned char>(first_bytes[0]);
  if (c == '*') return Match::yes;
  return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' || c == '\t' ? Match::yes : Match::no;
}

}  // namespace greenrpc
