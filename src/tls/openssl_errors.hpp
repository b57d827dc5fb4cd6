#pragma once
// OpenSSL's per-thread error queue as text (private to tls).
#include <string>

namespace greenrpc::tls_detail {

// Every queued error's reason ("; "-separated), the queue emptied. "" when it was empty.
std::string take_openssl_errors();
// Empties the queue (before an SSL call whose failure is read with SSL_get_error).
void clear_openssl_errors() noexcept;

}  // namespace greenrpc::tls_detail
