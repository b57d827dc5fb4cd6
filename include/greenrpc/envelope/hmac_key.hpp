#pragma once
// HMAC-SHA256 with a key prepared once: the inner and outer SHA-256 states after the padded key
// are computed at construction, so each tag costs two hash finalisations and no allocation.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace greenrpc {

using Tag = std::array<std::uint8_t, 32>;

class HmacKey {
 public:
  explicit HmacKey(std::string_view secret);
  ~HmacKey();
  HmacKey(HmacKey&&) noexcept;
  HmacKey& operator=(HmacKey&&) noexcept;

  // Incremental form: feed the message in pieces without collecting them first. Uses a
  // per-thread scratch state, so finish() it before the fiber can park.
  class Stream {
   public:
    explicit Stream(const HmacKey& key);
    Stream& update(std::string_view bytes);
    Stream& update_u64(std::uint64_t v);  // 8 bytes, big-endian
    Tag finish();

   private:
    const HmacKey& key_;
    void* ctx_;
  };

  // Constant-time comparison (CRYPTO_memcmp).
  static bool equal(const Tag& a, const Tag& b) noexcept;
  static bool equal(std::string_view a, const Tag& b) noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace greenrpc
