#define OPENSSL_SUPPRESS_DEPRECATED
#include "greenrpc/envelope/hmac_key.hpp"

#include <openssl/sha.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

namespace greenrpc {
namespace {

constexpr std::size_t kBlock = 64;  // SHA-256 block size

// Per-thread scratch context: copying a prepared state into it allocates nothing after the first use.
SHA256_CTX* scratch() {
  thread_local SHA256_CTX work;
  return &work;
}

}  // namespace

struct HmacKey::State {
  SHA256_CTX inner;  // SHA-256 state after (key ^ ipad)
  SHA256_CTX outer;  // SHA-256 state after (key ^ opad)
};

HmacKey::HmacKey(std::string_view secret) : state_(std::make_unique<State>()) {
  unsigned char key[kBlock] = {0};
  if (secret.size() > kBlock) {
    unsigned int len = 0;
    EVP_Digest(secret.data(), secret.size(), key, &len, EVP_sha256(), nullptr);
  } else {
    std::memcpy(key, secret.data(), secret.size());
  }
  unsigned char ipad[kBlock], opad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) {
    ipad[i] = key[i] ^ 0x36;
    opad[i] = key[i] ^ 0x5c;
  }
  if (!SHA256_Init(&state_->inner) || !SHA256_Update(&state_->inner, ipad, kBlock) ||
      !SHA256_Init(&state_->outer) || !SHA256_Update(&state_->outer, opad, kBlock))
    throw std::runtime_error("greenrpc: OpenSSL SHA-256 initialisation failed");
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
}

HmacKey::~HmacKey() = default;
HmacKey::HmacKey(HmacKey&&) noexcept = default;
HmacKey& HmacKey::operator=(HmacKey&&) noexcept = default;

HmacKey::Stream::Stream(const HmacKey& key) : key_(key), ctx_(scratch()) {
  *static_cast<SHA256_CTX*>(ctx_) = key_.state_->inner;
}

HmacKey::Stream& HmacKey::Stream::update(std::string_view bytes) {
  SHA256_Update(static_cast<SHA256_CTX*>(ctx_), bytes.data(), bytes.size());
  return *this;
}

HmacKey::Stream& HmacKey::Stream::update_u64(std::uint64_t v) {
  unsigned char be[8];
  for (int i = 7; i >= 0; --i, v >>= 8) be[i] = static_cast<unsigned char>(v & 0xff);
  SHA256_Update(static_cast<SHA256_CTX*>(ctx_), be, sizeof be);
  return *this;
}

Tag HmacKey::Stream::finish() {
  auto* work = static_cast<SHA256_CTX*>(ctx_);
  unsigned char inner_hash[32];
  Tag tag{};
  SHA256_Final(inner_hash, work);
  *work = key_.state_->outer;
  SHA256_Update(work, inner_hash, sizeof inner_hash);
  SHA256_Final(tag.data(), work);
  return tag;
}

bool HmacKey::equal(const Tag& a, const Tag& b) noexcept { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

bool HmacKey::equal(std::string_view a, const Tag& b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), b.size()) == 0;
}

}  // namespace greenrpc
