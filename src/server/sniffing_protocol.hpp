#pragma once
// Several protocols on one port: each connection's first bytes (read with a deadline) choose
// among them, asked in order (brpc's parsers: "not mine, try the others"). The first to answer
// Match::yes gets the connection, with the bytes already read handed on; a protocol answering
// need_more before any yes makes the connection wait for more bytes. When none matches, or the
// bytes stop coming, the connection is closed.
#include <chrono>
#include <memory>
#include <vector>

#include "protocol_factory.hpp"

namespace greenrpc {

class SniffingProtocol final : public ProtocolFactory {
 public:
  // The most bytes read before giving up on choosing.
  static constexpr std::size_t kMaxSniffBytes = 256;

  SniffingProtocol(std::vector<std::shared_ptr<const ProtocolFactory>> protocols, std::chrono::milliseconds timeout);

  std::string_view name() const noexcept override { return "sniffing"; }
  std::unique_ptr<ProtocolHandler> make(Worker& worker, std::unique_ptr<ByteStream> stream, std::uint64_t id) const override;
  // The first protocol that answers yes; the first need_more before any yes; else no.
  Match probe(std::span<const char> first_bytes) const noexcept override;
  // The protocol `first_bytes` choose, or nullptr (probe() must have said yes).
  const ProtocolFactory* choose(std::span<const char> first_bytes) const noexcept;
  // The first protocol's (the one this port is known for).
  std::string_view refusal() const noexcept override;
  // The refusal of the protocol `first_bytes` choose, else the first protocol's.
  std::string_view tls_required_refusal(std::span<const char> first_bytes) const noexcept override;
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

 private:
  std::vector<std::shared_ptr<const ProtocolFactory>> protocols_;
  std::chrono::milliseconds timeout_;
};

}  // namespace greenrpc
