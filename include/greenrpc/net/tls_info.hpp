#pragma once
// What a TLS connection established: the protocol, the cipher and the peer's certificate (a
// server sees the client's under mutual TLS). Plain data, no OpenSSL types: a handler or the auth
// function can authorise by the peer's identity through RequestContext::tls().
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace greenrpc {

struct PeerCertificate {
  std::string subject;  // RFC 2253, e.g. "CN=alice,O=Example"
  std::string issuer;
  std::string common_name;  // the subject's last CN ("" when none)
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, as text
  std::vector<std::string> uris;  // subjectAltName URIs (e.g. SPIFFE IDs)
  std::vector<std::string> emails;  // subjectAltName rfc822 names
  std::string serial;  // hexadecimal
  std::string sha256_fingerprint;  // of the DER encoding, lowercase hex (for pinning and logs)
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  std::string server_name;  // the SNI the client sent (server side) or asked for (client side)
  // The verified peer certificate; none when the peer sent none (a client without one where
  // client certificates are optional).
  std::optional<PeerCertificate> peer_certificate;
};

}  // namespace greenrpc
