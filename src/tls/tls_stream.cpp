#include "greenrpc/tls/tls_stream.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "greenrpc/net/errors.hpp"
#include "greenrpc/tls/tls_error.hpp"
#include "openssl_errors.hpp"
#include "peer_certificate.hpp"

namespace greenrpc {
namespace {

constexpr std::size_t kInSize = 16 * 1024;       // ciphertext read from the transport at once
constexpr std::size_t kMaxPlaintext = 64 * 1024;  // taken by one write_some (four records)
constexpr std::size_t kGather = 16 * 1024;        // small parts gathered into one record
constexpr std::size_t kFirstBytes = 64;           // kept for not_tls errors
constexpr std::size_t kMaxHeld = 256 * 1024;      // ciphertext held beyond one write_some's records

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// What the first bytes were, for a human: printable text quoted, else hex.
std::string show_bytes(std::string_view bytes) {
  const bool printable = std::all_of(bytes.begin(), bytes.end(), [](char c) {
    return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n';
  });
  std::string out;
  if (printable) {
    out = "\"";
    for (char c : bytes.substr(0, 48)) out += c == '\r' ? std::string("\\r") : c == '\n' ? std::string("\\n") : std::string(1, c);
    return out + "\"";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : bytes.substr(0, 16)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return "bytes " + out;
}

}  // namespace

// The BIO between OpenSSL and this stream's buffers: reads take ciphertext from in_ (none left:
// "retry", and the stream fills it from the transport), writes append to pending_.
struct TlsStream::Bio {
  static int read(BIO* b, char* out, int len) {
    auto* s = static_cast<TlsStream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    const std::size_t left = s->in_end_ - s->in_pos_;
    if (left == 0) {
      BIO_set_retry_read(b);
      return -1;
    }
    const std::size_t n = std::min(left, static_cast<std::size_t>(len));
    std::memcpy(out, s->in_.get() + s->in_pos_, n);
    s->in_pos_ += n;
    return static_cast<int>(n);
  }
  static int write(BIO* b, const char* data, int len) {
    auto* s = static_cast<TlsStream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    s->pending_.append(data, static_cast<std::size_t>(len));
    return len;
  }
  static long ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }
  static int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }
  static const BIO_METHOD* method() {
    static const BIO_METHOD* m = [] {
      BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "greenrpc stream");
      BIO_meth_set_read(bm, &Bio::read);
      BIO_meth_set_write(bm, &Bio::write);
      BIO_meth_set_ctrl(bm, &Bio::ctrl);
      BIO_meth_set_create(bm, &Bio::create);
      return bm;
    }();
    return m;
  }
};

TlsStream::TlsStream(std::unique_ptr<ByteStream> transport, std::shared_ptr<const TlsContext> context, std::string host)
    : transport_(std::move(transport)), context_(std::move(context)) {
  tls_detail::clear_openssl_errors();
  ssl_ = SSL_new(context_->native());
  bio_ = BIO_new(Bio::method());
  if (!ssl_ || !bio_) {
    if (ssl_) SSL_free(ssl_);
    if (bio_) BIO_free(bio_);
    throw TlsError(TlsError::Reason::configuration, "TLS: cannot create a session: " + tls_detail::take_openssl_errors());
  }
  BIO_set_data(bio_, this);
  SSL_set_bio(ssl_, bio_, bio_);  // one reference, owned by ssl_ from here
  if (context_->is_server()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  const std::string name = context_->server_name().empty() ? host : context_->server_name();
  info_.server_name = name;
  const bool ip = is_ip_literal(name);
  if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl_, name.c_str());  // SNI is for names only
  if (context_->pinned()) return;  // a pinned certificate is checked whole instead
  if (name.empty()) {
    SSL_free(ssl_);
    throw TlsError(TlsError::Reason::configuration,
                   "TLS: no host name to verify the server's certificate against (set the host or tls.server_name)");
  }
  const bool set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str()) == 1
                      : SSL_set1_host(ssl_, name.c_str()) == 1;
  if (!set) {
    SSL_free(ssl_);
    throw TlsError(TlsError::Reason::configuration, "TLS: cannot verify against the name \"" + name + "\"");
  }
}

TlsStream::~TlsStream() {
  transport_->close();
  SSL_free(ssl_);  // frees bio_ too
}

void TlsStream::cancel() {
  cancelled_ = true;
  transport_->cancel();
}

void TlsStream::close() { transport_->close(); }

bool TlsStream::fill(Deadline deadline) {
  if (!in_) in_ = std::make_unique<char[]>(kInSize);
  // Bytes OpenSSL has not taken yet stay (it takes all it is given while it wants more, but
  // keep them rather than rely on it).
  const std::size_t kept = in_end_ - in_pos_;
  if (kept > 0 && in_pos_ > 0) std::memmove(in_.get(), in_.get() + in_pos_, kept);
  in_pos_ = 0;
  in_end_ = kept;
  if (kept == kInSize) return true;
  const std::size_t n = transport_->read_some(std::span<char>(in_.get() + kept, kInSize - kept), deadline);
  in_end_ = kept + n;
  if (!handshaken_ && first_bytes_.size() < kFirstBytes)
    first_bytes_.append(in_.get() + kept, std::min(n, kFirstBytes - first_bytes_.size()));
  return n > 0;
}

void TlsStream::push(Deadline deadline) {
  for (;;) {
    if (sending_pos_ == sending_.size()) {
      sending_.clear();
      sending_pos_ = 0;
      if (pending_.empty()) return;
      sending_.swap(pending_);
    }
    const std::string_view rest(sending_.data() + sending_pos_, sending_.size() - sending_pos_);
    sending_pos_ += transport_->write_some(std::span(&rest, 1), deadline);
  }
}

void TlsStream::push_from_reader() noexcept {
  // A read can produce records (the no_renegotiation alert answering a peer's renegotiation;
  // OpenSSL defers its KeyUpdate answer to the next SSL_write). Left in pending_, they wait for
  // a write that may not come while the peer waits for them. sending_ empty: no writer is in
  // the transport. A deadline already passed: the transport's write never parks here, and what
  // it does not take at once stays in sending_ for the next write_some or flush.
  if (pending_.empty() || !sending_.empty() || cancelled_) return;
  try {
    push(Deadline(Clock::time_point::min()));
  } catch (const std::exception&) {  // the reader's next transport read meets a broken one
  }
}

void TlsStream::flush(Deadline deadline) {
  if (cancelled_) throw CancelledError("flush on a cancelled stream (" + peer().to_string() + ")");
  push(deadline);
}

void TlsStream::fail(int ssl_error, const char* op) { std::rethrow_exception(failure_for(ssl_error, op)); }

std::exception_ptr TlsStream::failure_for(int ssl_error, const char* op) {
  using R = TlsError::Reason;
  failed_ = true;
  const unsigned long code = ERR_peek_error();
  const int reason = ERR_GET_REASON(code);
  std::string detail = tls_detail::take_openssl_errors();
  const std::string who = peer().to_string();
  if (ssl_error == SSL_ERROR_SYSCALL && detail.empty())
    return std::make_exception_ptr(IoError("TLS " + std::string(op) + " with " + who + " failed", 0));
  // The peer's close_notify in the middle of its handshake: it went away, like a closed socket
  // (a client retries that).
  if (ssl_error == SSL_ERROR_ZERO_RETURN && !handshaken_)
    return std::make_exception_ptr(IoError("connection with " + who + " closed during the TLS handshake", 0));
  const bool server = context_->is_server();
  const long verify = SSL_get_verify_result(ssl_);
  R r = R::protocol;
  std::string what;
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
    const std::string why = X509_verify_cert_error_string(verify);
    switch (verify) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
      case X509_V_ERR_CERT_NOT_YET_VALID:
        r = R::expired;
        what = server ? "the client's certificate is expired or not valid yet" : "the server's certificate is expired or not valid yet";
        break;
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        r = R::wrong_host;
        what = "the server's certificate is not for \"" + info_.server_name + "\"";
        break;
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_CERT_UNTRUSTED:
        r = R::unknown_ca;
        what = context_->pinned() ? "the server's certificate is not the pinned one"
               : server           ? "the client's certificate is not issued by a trusted CA"
                                  : "the server's certificate is not issued by a trusted CA";
        break;
      default:  // chains to a trusted CA but cannot be used: wrong purpose, bad signature, a CA as leaf...
        r = R::invalid_certificate;
        what = server ? "the client's certificate is not acceptable" : "the server's certificate is not acceptable";
        break;
    }
    what += " (" + why + ")";
  } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    r = R::client_cert_required;
    what = "the client sent no certificate, and this server requires one";
  } else if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
             (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && !server && !context_->has_certificate() &&
              SSL_get_client_CA_list(ssl_) != nullptr)) {
    r = R::client_cert_required;
    what = "the server requires a client certificate (set cert_file and key_file)";
  } else if (reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
             reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN ||
             reason == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED) {
    r = R::peer_cert_rejected;
    what = server ? "the client refused this server's certificate" : "the server refused this client's certificate";
  } else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
             reason == SSL_R_PACKET_LENGTH_TOO_LONG) {
    if (!first_bytes_.empty() && !handshaken_) {
      r = R::not_tls;
      what = std::string(server ? "the client" : "the server") + " does not speak TLS (it sent " + show_bytes(first_bytes_) + ")";
    }
  }
  if (what.empty()) what = std::string("TLS ") + op + " failed";
  return std::make_exception_ptr(
      TlsError(r, "TLS " + std::string(op) + " with " + who + ": " + what + (detail.empty() ? "" : " [" + detail + "]")));
}

void TlsStream::handshake(Deadline deadline) {
  if (cancelled_) throw CancelledError("handshake on a cancelled stream (" + peer().to_string() + ")");
  // Done already (a connection that sniffed its first decrypted bytes hands the stream on).
  if (handshaken_) return;
  deadline = earliest(deadline, handshake_deadline_);
  transport_->handshake(deadline);
  const bool server = context_->is_server();
  for (;;) {
    tls_detail::clear_openssl_errors();
    const int ret = SSL_do_handshake(ssl_);
    if (ret == 1) {
      push(deadline);  // the last flight (client: Finished; server: its tickets, if any)
      // A server sends nothing after the client's Finished (no session tickets) for the ACK to
      // ride on: a client with Nagle on would hold its first request for the delayed ACK.
      if (server) transport_->acknowledge_now();
      handshaken_ = true;
      first_bytes_ = std::string();
      collect_info();
      return;
    }
    const int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_WANT_READ) {
      push(deadline);
      const bool first = first_bytes_.empty();
      if (!fill(deadline))
        throw IoError("connection with " + peer().to_string() + " closed during the TLS handshake", 0);
      const auto b0 = static_cast<unsigned char>(first_bytes_[0]);
      // A TLS client opens with a handshake record (0x16); a server may also answer with an
      // alert (0x15). Anything else is another protocol: say so rather than "wrong version".
      if (first && (server ? b0 != 0x16 : (b0 < 0x14 || b0 > 0x17))) {
        failed_ = true;
        const std::string_view refusal =
            server && plaintext_refusal_ ? plaintext_refusal_(std::span<const char>(first_bytes_)) : std::string_view();
        if (!refusal.empty()) {
          const Deadline soon = earliest(deadline, Deadline::after(std::chrono::milliseconds(200)));
          std::string failure;
          try {
            transport_->write_all(refusal, soon);
          } catch (const std::exception& e) {  // it is closed all the same
            failure = e.what();
          }
        }
        throw TlsError(TlsError::Reason::not_tls, std::string("TLS handshake with ") + peer().to_string() + ": " +
                                                      (server ? "the client does not speak TLS (it sent "
                                                              : "the server did not answer in TLS (it sent ") +
                                                      show_bytes(first_bytes_) + ")");
      }
      continue;
    }
    // Refused: OpenSSL queued an alert saying why (unknown CA, certificate required...). The
    // error is read first (the thread's error queue is not ours once the push parks), then the
    // alert goes out, briefly, so the peer gets the reason and not just a closed connection.
    std::exception_ptr error = failure_for(err, "handshake");
    std::string failure;
    try {
      push(earliest(deadline, Deadline::after(std::chrono::milliseconds(200))));
    } catch (const std::exception& e) {
      failure = e.what();
    }
    std::rethrow_exception(error);
  }
}

void TlsStream::collect_info() {
  info_.version = SSL_get_version(ssl_);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_)) info_.cipher = SSL_CIPHER_get_name(c);
  if (context_->is_server())
    if (const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) info_.server_name = sni;
  if (X509* peer_cert = SSL_get0_peer_certificate(ssl_); peer_cert && SSL_get_verify_result(ssl_) == X509_V_OK)
    info_.peer_certificate = tls_detail::describe_certificate(peer_cert);
}

std::size_t TlsStream::read_some(std::span<char> buf, Deadline deadline) {
  assert(!buf.empty() && "read_some into an empty buffer: 0 would read as end of stream");
  assert(handshaken_ && "greenrpc::TlsStream: read before the handshake");
  if (cancelled_) throw CancelledError("read on a cancelled stream (" + peer().to_string() + ")");
  if (failed_) throw IoError("read on a failed TLS connection (" + peer().to_string() + ")", 0);
  if (eof_ != EndOfStream::open) return 0;
  // Nothing buffered here or in OpenSSL: SSL_read could only answer WANT_READ. Read the
  // transport first (one failed SSL_read and its error-queue work less per request).
  bool read_transport_first = in_pos_ == in_end_ && !SSL_has_pending(ssl_) && pending_.empty();
  for (;;) {
    if (std::exchange(read_transport_first, false)) {
      if (!fill(deadline)) {  // the transport ended without close_notify
        eof_ = EndOfStream::abrupt;
        return 0;
      }
    }
    tls_detail::clear_openssl_errors();
    std::size_t n = 0;
    const int ret = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
    if (ret == 1) return n;
    const int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_ZERO_RETURN) {  // close_notify
      eof_ = EndOfStream::orderly;
      return 0;
    }
    if (err != SSL_ERROR_WANT_READ) fail(err, "read");
    push_from_reader();
    // Records a read produced (alerts answering renegotiation attempts...) that a peer does not
    // read would pile up here, out of sight of the memory budget: a bound, then the end.
    if (pending_.size() + sending_.size() > kMaxHeld) {
      failed_ = true;
      throw IoError("TLS peer " + peer().to_string() + " does not read the records it provokes (" +
                        std::to_string(pending_.size() + sending_.size()) + " bytes held)",
                    0);
    }
    read_transport_first = true;
  }
}

std::size_t TlsStream::write_some(std::span<const std::string_view> parts, Deadline deadline) {
  assert(handshaken_ && "greenrpc::TlsStream: write before the handshake");
  if (cancelled_) throw CancelledError("write on a cancelled stream (" + peer().to_string() + ")");
  if (failed_) throw IoError("write on a failed TLS connection (" + peer().to_string() + ")", 0);
  // What the previous call took goes out first: this stream never holds more than one call's.
  push(deadline);
  std::size_t first = 0;
  while (first < parts.size() && parts[first].empty()) ++first;
  if (first == parts.size()) return 0;
  const char* data;
  std::size_t len;
  if (parts[first].size() >= kGather || first + 1 == parts.size()) {
    data = parts[first].data();
    len = std::min(parts[first].size(), kMaxPlaintext);
  } else {
    scratch_.clear();
    for (std::size_t i = first; i < parts.size() && scratch_.size() < kGather; ++i)
      scratch_.append(parts[i].substr(0, kGather - scratch_.size()));
    data = scratch_.data();
    len = scratch_.size();
  }
  tls_detail::clear_openssl_errors();
  std::size_t taken = 0;
  const int ret = SSL_write_ex(ssl_, data, len, &taken);
  if (ret != 1) fail(SSL_get_error(ssl_, ret), "write");
  // Taken: OpenSSL owns the records now. They go to the transport at the next write_some or
  // flush (has_unflushed() says so meanwhile).
  return taken;
}

void TlsStream::shutdown(Deadline deadline) {
  if (cancelled_) throw CancelledError("shutdown on a cancelled stream (" + peer().to_string() + ")");
  if (handshaken_ && !failed_) {
    push(deadline);
    tls_detail::clear_openssl_errors();
    SSL_shutdown(ssl_);  // queues close_notify; the peer's is not waited for
    tls_detail::clear_openssl_errors();
    push(deadline);
  }
  transport_->shutdown(deadline);
}

bool TlsStream::notify_readable(Deadline deadline, Waiter::Callback ready, void* arg) {
  if (cancelled_ || failed_ || eof_ != EndOfStream::open) return false;
  // Ciphertext not yet given to OpenSSL, or decrypted bytes it holds: a read makes progress
  // now. (A partial record it holds does not: a read would park.) Records waiting to go out: a
  // read pushes them.
  if (in_pos_ < in_end_ || SSL_pending(ssl_) > 0 || has_unflushed()) return false;
  if (!handshaken_) deadline = earliest(deadline, handshake_deadline_);
  if (!transport_->notify_readable(deadline, ready, arg)) return false;
  release_idle_buffers();  // armed: the callback comes in a later round, not before this returns
  return true;
}

void TlsStream::release_idle_buffers() noexcept {
  // OpenSSL's record buffers (about 34 KiB) go back while idle; a busy connection keeps them
  // (SSL_MODE_RELEASE_BUFFERS would free and reallocate them around every record). Refused, and
  // harmless, while they hold a partial record.
  // OpenSSL before 3.0.14 could free a read buffer still holding a record header (CVE-2024-4741).
  static const bool safe_to_free = OpenSSL_version_num() >= 0x300000e0L;
  if (safe_to_free) SSL_free_buffers(ssl_);
  if (in_pos_ == in_end_) {
    in_.reset();
    in_pos_ = in_end_ = 0;
  }
  if (!has_unflushed()) {
    std::string().swap(pending_);
    std::string().swap(sending_);
  }
  std::string().swap(scratch_);
}

}  // namespace greenrpc
