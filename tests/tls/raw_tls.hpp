#pragma once
// A TLS peer driven by hand with OpenSSL's blocking API over a plain socket (receive and send
// timeouts, so nothing hangs): the tests look at what greenrpc's side of TLS does on the wire —
// which certificate a new connection gets, key updates, close_notify, TLS 1.2 — without going
// through greenrpc's own TlsStream.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>
#include <stdexcept>
#include <string>

#include "../support/loopback.hpp"

namespace tls_test {

inline std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

inline std::string sha256_hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!cert || !X509_digest(cert, EVP_sha256(), md, &len)) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// The SHA-256 fingerprint of a PEM certificate file (as PeerCertificate::sha256_fingerprint).
inline std::string file_fingerprint(const std::string& pem) {
  FILE* f = std::fopen(pem.c_str(), "r");
  if (!f) return {};
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  std::string out = sha256_hex(cert);
  X509_free(cert);
  return out;
}

inline void set_timeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A blocking TLS client on 127.0.0.1:`port` trusting `ca_file` (empty: verifying nothing).
class RawTlsClient {
 public:
  RawTlsClient(std::uint16_t port, const std::string& ca_file, int timeout_ms = 5000, bool tls12_only = false) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (tls12_only) SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
    if (!ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    fd_ = test_support::connect_loopback(port);
    if (fd_ < 0) throw std::runtime_error("RawTlsClient: connect failed");
    set_timeouts(fd_, timeout_ms);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
  }
  ~RawTlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  // Empty when the handshake completed, else why not.
  std::string handshake() {
    ERR_clear_error();
    return SSL_connect(ssl_) == 1 ? std::string() : "SSL_connect failed: " + openssl_errors();
  }
  std::string peer_fingerprint() const { return sha256_hex(SSL_get0_peer_certificate(ssl_)); }
  std::string version() const { return SSL_get_version(ssl_); }
  SSL* ssl() { return ssl_; }

  bool write(std::string_view bytes) {
    std::size_t done = 0;
    return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &done) == 1 && done == bytes.size();
  }
  // The next complete RESP reply; empty on close, error or timeout.
  std::string read_reply() {
    char buf[16384];
    for (;;) {
      if (std::size_t end = test_support::resp_value_end(pending_, 0)) {
        std::string out = pending_.substr(0, end);
        pending_.erase(0, end);
        return out;
      }
      std::size_t n = 0;
      if (SSL_read_ex(ssl_, buf, sizeof buf, &n) != 1) return {};
      pending_.append(buf, n);
    }
  }
  std::string call(std::string_view frame) { return write(frame) ? read_reply() : std::string(); }
  // What the next read ends with: "close_notify", "eof" (the transport ended without one),
  // "data", or "error ...".
  std::string read_end() {
    char buf[256];
    std::size_t n = 0;
    ERR_clear_error();
    const int ret = SSL_read_ex(ssl_, buf, sizeof buf, &n);
    if (ret == 1) return "data";
    const int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_ZERO_RETURN) return "close_notify";
    if (err == SSL_ERROR_SYSCALL || (err == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
      return "eof";
    return "error " + std::to_string(err) + " " + openssl_errors();
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string pending_;
};

// A blocking TLS server on 127.0.0.1 (a thread): for each connection, the handshake, then one
// read answered "+PONG\r\n", then close_notify. TLS 1.2 at most when `tls12_only`; requires a
// client certificate from `ca_file` when it is set. outcomes() lists each handshake's result as
// soon as it is known (wait for it: the peer may see the end of the handshake first).
class RawTlsServer {
 public:
  RawTlsServer(const std::string& cert, const std::string& key, bool tls12_only, const std::string& ca_file = {}) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("RawTlsServer: " + openssl_errors());
    if (tls12_only) SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
    if (!ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
      SSL_CTX_set_client_CA_list(ctx_, SSL_load_client_CA_file(ca_file.c_str()));
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    listen_fd_ = test_support::listen_loopback(port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawTlsServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> outcomes() {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      set_timeouts(fd, 2000);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      ERR_clear_error();
      const bool accepted = SSL_accept(ssl) == 1;
      {
        std::lock_guard lock(mutex_);
        outcomes_.push_back(accepted ? std::string("ok ") + SSL_get_version(ssl) : "refused: " + openssl_errors());
      }
      if (accepted) {
        char buf[4096];
        std::size_t n = 0;
        if (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1) {
          std::size_t done = 0;
          SSL_write_ex(ssl, "+PONG\r\n", 7, &done);
        }
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(fd);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> outcomes_;
  std::thread thread_;
};

}  // namespace tls_test
