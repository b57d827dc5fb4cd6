#include "peer_certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <memory>

namespace greenrpc::tls_detail {
namespace {

std::string name_text(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string common_name(const X509_NAME* name) {
  int last = -1;
  for (int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, NID_commonName, i))
    last = i;
  if (last < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::chrono::system_clock::time_point to_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || !ASN1_TIME_to_tm(t, &tm)) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string ia5(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string ip_text(const ASN1_OCTET_STRING* s) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int len = ASN1_STRING_length(s);
  const unsigned char* data = ASN1_STRING_get0_data(s);
  if (len == 4) inet_ntop(AF_INET, data, buf, sizeof buf);
  else if (len == 16) inet_ntop(AF_INET6, data, buf, sizeof buf);
  return buf;
}

}  // namespace

PeerCertificate describe_certificate(const x509_st* cert) {
  PeerCertificate c;
  c.subject = name_text(X509_get_subject_name(cert));
  c.issuer = name_text(X509_get_issuer_name(cert));
  c.common_name = common_name(X509_get_subject_name(cert));
  c.not_before = to_time(X509_get0_notBefore(cert));
  c.not_after = to_time(X509_get0_notAfter(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      c.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len)) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned i = 0; i < md_len; ++i) {
      c.sha256_fingerprint += kHex[md[i] >> 4];
      c.sha256_fingerprint += kHex[md[i] & 15];
    }
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
      switch (n->type) {
        case GEN_DNS: c.dns_names.push_back(ia5(n->d.dNSName)); break;
        case GEN_IPADD: c.ip_addresses.push_back(ip_text(n->d.iPAddress)); break;
        case GEN_URI: c.uris.push_back(ia5(n->d.uniformResourceIdentifier)); break;
        case GEN_EMAIL: c.emails.push_back(ia5(n->d.rfc822Name)); break;
        default: break;
      }
    }
    GENERAL_NAMES_free(names);
  }
  return c;
}

}  // namespace greenrpc::tls_detail
