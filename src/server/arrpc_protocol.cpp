#include "arrpc_protocol.hpp"

#include <string>

#include "arrpc_connection.hpp"
#include "arrpc_wire.hpp"

namespace greenrpc {
namespace {

std::string packed_rpc_exception(std::string_view message) {
  std::string out;
  arrpc::append_str(out, std::string(arrpc::kRpcException) + std::string(message));
  return out;
}

}  // namespace

std::unique_ptr<ProtocolHandler> ArrpcProtocol::make(Worker& worker, std::unique_ptr<ByteStream> stream,
                                                    std::uint64_t id) const {
  return std::make_unique<ArrpcConnection>(worker, std::move(stream), id);
}

Match ArrpcProtocol::probe(std::span<const char> first_bytes) const noexcept {
  if (first_bytes.empty()) return Match::need_more;
  const auto b = static_cast<unsigned char>(first_bytes[0]);
  return b >= 0x80 && b != 0xc1 ? Match::yes : Match::no;
}

std::string_view ArrpcProtocol::refusal() const noexcept {
  static const std::string bytes = packed_rpc_exception("max number of clients reached");
  return bytes;
}

std::string_view ArrpcProtocol::tls_required_refusal(std::span<const char>) const noexcept {
  static const std::string bytes = packed_rpc_exception("this port requires TLS");
  return bytes;
}

}  // namespace greenrpc
