#pragma once
// TLS settings of a server and of a client (OpenSSL 3). The names follow arrpc's (tls_certfile,
// tls_keyfile, tls_cafile, tls_self_signed) and Redis's (tls-auth-clients, tls-protocols).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace greenrpc {

enum class TlsVersion { tls1_2, tls1_3 };

struct TlsServerOptions {
  // PEM files: the certificate chain (leaf first) and its private key. TLS is on when cert_file
  // is set.
  std::string cert_file{};
  std::string key_file{};
  // PEM file of the CAs that client certificates must chain to; required by require_client_cert.
  std::string ca_file{};
  // Mutual TLS: a client without a certificate that verifies against ca_file is refused during
  // the handshake. False with a ca_file: a certificate is asked for, verified when sent, and
  // optional (RequestContext::tls() then tells).
  bool require_client_cert = false;
  TlsVersion min_version = TlsVersion::tls1_2;
  // OpenSSL cipher strings; empty: OpenSSL's secure defaults. `ciphers` is TLS 1.2's list,
  // `ciphersuites` TLS 1.3's.
  std::string ciphers{};
  std::string ciphersuites{};
  // Where TLS is served. Unset: the server's `port` speaks TLS, and plaintext sent there is
  // answered with a clear error and closed (unless accept_plaintext). Set: `port` stays plaintext
  // and this port speaks TLS (Redis's tls-port model); 0 picks a free one (Server::tls_port()).
  std::optional<std::uint16_t> port{};
  // The TLS port also serves plaintext clients: each connection's first byte chooses (a TLS
  // record starts with 0x16; RESP never does).
  bool accept_plaintext = false;
  // The whole handshake must complete within this, counted from accept (with accept_plaintext,
  // from the first byte, which chooses TLS): a slow or silent handshake holds a slot no longer,
  // and a silent one holds no fiber meanwhile.
  std::chrono::milliseconds handshake_timeout{10'000};

  bool enabled() const noexcept { return !cert_file.empty(); }
};

struct TlsClientOptions {
  bool enabled = false;
  // PEM file of the CAs the server's chain must verify against; empty: the system's default
  // trust store. The server's name (or IP) is checked against the certificate's SANs and sent
  // as SNI.
  std::string ca_file{};
  // Trust exactly this certificate (PEM), typically a self-signed one (arrpc's tls_self_signed):
  // the server must present it, byte for byte; no CA or name check applies. Still verified,
  // never "verification off".
  std::string pinned_cert_file{};
  // Mutual TLS: the client's certificate chain and key (PEM).
  std::string cert_file{};
  std::string key_file{};
  // The name to verify and send as SNI; empty: the host connected to.
  std::string server_name{};
  TlsVersion min_version = TlsVersion::tls1_2;
};

}  // namespace greenrpc
