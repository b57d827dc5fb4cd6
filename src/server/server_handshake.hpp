#pragma once
// The server side of a connection's stream handshake (TLS; nothing for TCP), as each connection
// runs it first thing in its fiber: the framed connections (RESP, arrpc) and a SniffingConnection
// that must read decrypted first bytes (a sniffer inside TLS).
#include <cstdint>
#include <string>

#include "greenrpc/net/byte_stream.hpp"
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

class WorkerMetrics;

struct HandshakeResult {
  bool done = false;         // completed: the stream is ready for requests
  std::string close_reason;  // otherwise: why the connection closes (its "connection closed" line)
};

// Runs `stream.handshake(deadline)`. A refused or timed-out TLS handshake is counted
// (tls_handshake_failures, by reason) and warned with the peer and the reason, rate-limited
// (scanners and misconfigured clients make them common); a peer that leaves during it, or a stop
// that cancels it, is only the reason returned. Never throws; the catch blocks only record
// (boost-fiber-pitfalls.md): the warning is written after them.
HandshakeResult server_handshake(ByteStream& stream, Deadline deadline, WorkerMetrics& metrics, std::uint64_t conn);

}  // namespace greenrpc
