#pragma once
// An X509 certificate as greenrpc's plain PeerCertificate (private to tls).
#include "greenrpc/net/tls_info.hpp"

struct x509_st;

namespace greenrpc::tls_detail {

PeerCertificate describe_certificate(const x509_st* cert);

}  // namespace greenrpc::tls_detail
