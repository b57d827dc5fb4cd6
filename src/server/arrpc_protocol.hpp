#pragma once
// arrpc's wire (adrianchifor/arrpc: bare msgpack over TCP; docs/protocol.md, "arrpc wire"): makes
// an ArrpcConnection per connection. Served beside RESP on one port (SniffingProtocol) when the
// App has a message handler: a msgpack request starts with a byte from 0x80 (a map, array, str,
// bin, or any other value but a positive fixint), RESP with '*' or printable text.
#include "protocol_factory.hpp"

namespace greenrpc {

class ArrpcProtocol final : public ProtocolFactory {
 public:
  std::string_view name() const noexcept override { return "arrpc"; }
  std::unique_ptr<ProtocolHandler> make(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id) const override;
  // Yes for every msgpack type byte from 0x80 except 0xc1 (never used); no below (RESP's and
  // TLS's bytes, and positive fixints, which a first message cannot be told from text by).
  Match probe(std::span<const char> first_bytes) const noexcept override;
  // arrpc's RpcException strings, as msgpack.
  std::string_view refusal() const noexcept override;
  std::string_view tls_required_refusal(std::span<const char> first_bytes) const noexcept override;
};

}  // namespace greenrpc
