#pragma once
// A TLS peer driven by hand with OpenSSL's blocking API over a plain socket (receive and send
// timeouts, so nothing hangs): the tests look at what greenrpc's side of TLS does on the wire —
// which certificate a new connection gets, key updates, close_notify, TLS 1.2 — without going
// through greenrpc's own TlsStream.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
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
// `receive_buffer` > 0: its socket's SO_RCVBUF (a small one: a peer that barely reads).
class RawTlsClient {
 public:
  RawTlsClient(std::uint16_t port, const std::string& ca_file, int timeout_ms = 5000, bool tls12_only = false,
               int receive_buffer = 0) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (tls12_only) SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
    if (!ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    fd_ = test_support::connect_loopback(port, receive_buffer);
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
  int fd() const { return fd_; }

  // The records SSL_write makes of `plaintext`, returned instead of sent (the session's write
  // sequence moves on: send them, whole or in pieces, before anything else is written).
  std::string seal(std::string_view plaintext) {
    BIO* socket_bio = SSL_get_wbio(ssl_);
    BIO_up_ref(socket_bio);  // SSL_set0_wbio frees the one it replaces
    BIO* mem = BIO_new(BIO_s_mem());
    SSL_set0_wbio(ssl_, mem);
    const bool written = write(plaintext);
    char* data = nullptr;
    const long n = BIO_get_mem_data(mem, &data);
    std::string out(data, n > 0 ? static_cast<std::size_t>(n) : 0);
    SSL_set0_wbio(ssl_, socket_bio);  // frees `mem`
    if (!written) throw std::runtime_error("RawTlsClient::seal: SSL_write failed: " + openssl_errors());
    return out;
  }

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

// TLS 1.2 records made by hand with a session's own keys: what a peer can send that OpenSSL's
// API never would (a renegotiation ClientHello after another, without reading the answers).
// Only the AES-128-GCM suites (RawTlsClient::ssl() with SSL_set_cipher_list before its
// handshake). The key block comes from the session's master secret (RFC 5246 6.3); sequence
// numbers go on from the Finished messages (0 in each direction), so take over a session right
// after its handshake, before anything else is written or read through OpenSSL.
class Tls12Records {
 public:
  explicit Tls12Records(SSL* ssl) {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    const std::string name = cipher ? SSL_CIPHER_get_name(cipher) : "";
    if (SSL_version(ssl) != TLS1_2_VERSION || name.find("AES128-GCM-SHA256") == std::string::npos)
      throw std::runtime_error("Tls12Records: TLS 1.2 with AES128-GCM-SHA256 only, not " + name);
    unsigned char master[SSL_MAX_MASTER_KEY_LENGTH];
    const std::size_t master_len = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof master);
    unsigned char randoms[2 * SSL3_RANDOM_SIZE];
    SSL_get_server_random(ssl, randoms, SSL3_RANDOM_SIZE);
    SSL_get_client_random(ssl, randoms + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE);
    std::string seed = "key expansion";
    seed.append(reinterpret_cast<const char*>(randoms), sizeof randoms);
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
    EVP_KDF_CTX* kctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, master_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
        OSSL_PARAM_construct_end()};
    // client_write_key, server_write_key (16 each), client_write_IV, server_write_IV (4 each)
    const bool ok = kctx && EVP_KDF_derive(kctx, key_block_, sizeof key_block_, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (!ok) throw std::runtime_error("Tls12Records: key expansion failed: " + openssl_errors());
  }

  // One client-to-server record of content type `type` (0x16 handshake, 0x17 data...).
  std::string seal(unsigned char type, std::string_view plaintext) {
    if (plaintext.size() > 16384) throw std::runtime_error("Tls12Records::seal: more than a record");
    const std::uint64_t seq = client_seq_++;
    std::string out(5 + 8 + plaintext.size() + 16, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    const std::size_t len = out.size() - 5;
    o[0] = type, o[1] = 3, o[2] = 3, o[3] = static_cast<unsigned char>(len >> 8), o[4] = static_cast<unsigned char>(len);
    for (int i = 0; i < 8; ++i) o[5 + i] = static_cast<unsigned char>(seq >> (56 - 8 * i));  // the explicit nonce
    if (!gcm(true, key_block_, key_block_ + 32, seq, type, o + 5,
             reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), o + 13,
             o + 13 + plaintext.size()))
      throw std::runtime_error("Tls12Records::seal: " + openssl_errors());
    return out;
  }

  // The plaintext of one whole server-to-client record, or nullopt when it does not authenticate.
  std::optional<std::string> open(std::string_view record) {
    if (record.size() < 5 + 8 + 16) return std::nullopt;
    const auto* r = reinterpret_cast<const unsigned char*>(record.data());
    const std::size_t n = record.size() - 5 - 8 - 16;
    std::string out(n, '\0');
    std::string tag(record.substr(record.size() - 16));
    if (!gcm(false, key_block_ + 16, key_block_ + 36, server_seq_++, r[0], r + 5, r + 13, n,
             reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<unsigned char*>(tag.data())))
      return std::nullopt;
    return out;
  }

 private:
  // AES-128-GCM as TLS 1.2 uses it (RFC 5288): nonce = salt || explicit nonce; additional data
  // = sequence number, type, version, plaintext length.
  static bool gcm(bool encrypt, const unsigned char* key, const unsigned char* salt, std::uint64_t seq,
                  unsigned char type, const unsigned char* explicit_nonce, const unsigned char* in, std::size_t n,
                  unsigned char* out, unsigned char* tag) {
    unsigned char nonce[12];
    std::memcpy(nonce, salt, 4);
    std::memcpy(nonce + 4, explicit_nonce, 8);
    unsigned char aad[13];
    for (int i = 0; i < 8; ++i) aad[i] = static_cast<unsigned char>(seq >> (56 - 8 * i));
    aad[8] = type, aad[9] = 3, aad[10] = 3, aad[11] = static_cast<unsigned char>(n >> 8), aad[12] = static_cast<unsigned char>(n);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    bool ok = EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
              EVP_CipherInit_ex(ctx, nullptr, nullptr, key, nonce, encrypt ? 1 : 0) == 1 &&
              EVP_CipherUpdate(ctx, nullptr, &len, aad, sizeof aad) == 1 &&
              (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, static_cast<int>(n)) == 1);
    if (ok && !encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + (n == 0 ? 0 : len), &len) == 1;
    if (ok && encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
  }

  unsigned char key_block_[40];
  std::uint64_t client_seq_ = 1;
  std::uint64_t server_seq_ = 1;
};

// One whole TLS record from `fd` (blocking, within its receive timeout); empty on EOF or error.
inline std::string read_record(int fd) {
  std::string rec;
  auto take = [&](std::size_t want) {
    while (rec.size() < want) {
      char buf[16384 + 2048];
      const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, want - rec.size()), 0);
      if (n <= 0) return false;
      rec.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  };
  if (!take(5)) return {};
  const std::size_t len = (static_cast<unsigned char>(rec[3]) << 8) | static_cast<unsigned char>(rec[4]);
  return take(5 + len) ? rec : std::string();
}

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
