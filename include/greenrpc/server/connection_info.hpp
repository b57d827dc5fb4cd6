#pragma once
// Per-connection data the framework keeps for special arguments (auth value, state).
#include <any>
#include <cstdint>
#include <string>

#include "greenrpc/net/endpoint.hpp"
#include "greenrpc/net/tls_info.hpp"
#include "greenrpc/server/move_only_any.hpp"

namespace greenrpc {

struct ConnectionInfo {
  std::uint64_t id = 0;
  Endpoint peer;
  // What TLS established (the client's certificate under mutual TLS); null without TLS. Owned by
  // the connection's stream.
  const TlsInfo* tls = nullptr;
  unsigned worker = 0;
  std::any auth;        // the value returned by the App's auth function; empty until AUTH succeeds
  MoveOnlyAny state;    // created by the App's state factory when the connection opens (may be move-only)
  std::string name;     // CLIENT SETNAME
  std::string nonce;    // 16 random bytes binding signed requests to this connection (NONCE)
  std::uint64_t last_seq = 0;  // highest sequence number of an accepted signed request
};

}  // namespace greenrpc
