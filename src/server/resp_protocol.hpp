#pragma once
// The RESP2 protocol (docs/protocol.md): makes a RespConnection per accepted connection.
#include "protocol_factory.hpp"

namespace greenrpc {

class RespProtocol final : public ProtocolFactory {
 public:
  std::string_view name() const noexcept override { return "resp"; }
  std::unique_ptr<ProtocolHandler> make(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id) const override;
  // A multibulk request starts with '*'; an inline command (redis-cli, telnet) with printable text.
  Match probe(std::span<const char> first_bytes) const noexcept override;
  // Redis' answer.
  std::string_view refusal() const noexcept override { return "-ERR max number of clients reached\r\n"; }
  std::string_view tls_required_refusal(std::span<const char>) const noexcept override {
    return "-ERR this port requires TLS (redis-cli: --tls --cacert <file>)\r\n";
  }
};

}  // namespace greenrpc
