#include "openssl_errors.hpp"

#include <openssl/err.h>

namespace greenrpc::tls_detail {

std::string take_openssl_errors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    char buf[256];
    if (!reason) {
      ERR_error_string_n(e, buf, sizeof buf);
      reason = buf;
    }
    if (!text.empty()) text += "; ";
    text += reason;
  }
  return text;
}

void clear_openssl_errors() noexcept { ERR_clear_error(); }

}  // namespace greenrpc::tls_detail
