#pragma once
// The RESP2 ReplyEncoder: replies are appended to the connection's output buffer (no copy, no
// allocation beyond its growth). A signed reply's element goes to a reused side buffer first, so
// the [tag, element] array can be written in wire order once the tag is known.
#include <string>
#include <utility>

#include "greenrpc/rpc/reply_encoder.hpp"
#include "heap_bytes.hpp"

namespace greenrpc {

class RespReplyEncoder final : public ReplyEncoder {
 public:
  // A user reply's payload from this size on is not copied into the output buffer: the
  // connection writes it from the dispatcher's result buffer, in pieces as the socket takes them.
  static constexpr std::size_t kByReference = 256 * 1024;

  explicit RespReplyEncoder(std::string& out) : out_(&out), target_(&out) {}

  // A payload left out of the output buffer: it belongs at offset `at` of it. Its bytes stay
  // valid until the next request is dispatched; the connection writes them before that.
  struct Deferred {
    std::size_t at = 0;
    std::string_view bytes;
  };
  bool has_deferred() const noexcept { return !deferred_.bytes.empty(); }
  std::size_t deferred_size() const noexcept { return deferred_.bytes.size(); }
  Deferred take_deferred() noexcept { return std::exchange(deferred_, Deferred{}); }
  // The signed-reply element buffer: its size for the budget, and its release when idle.
  std::size_t memory_bytes() const noexcept { return heap_bytes(element_); }
  void release_buffers() { std::string().swap(element_); }
  void release_large_buffers() {
    if (element_.capacity() > 64 * 1024) std::string().swap(element_);
  }

  void ok_bytes(std::string_view msgpack) override;
  std::size_t bytes_encoded() const noexcept override { return out_->size() + deferred_.bytes.size(); }
  void simple(std::string_view text) override;
  void bulk(std::string_view bytes) override;
  void integer(std::int64_t value) override;
  void nil() override;
  void array_header(std::size_t elements) override;

  void begin_signed() override;
  std::string_view signed_element() const override { return element_; }
  void end_signed(std::span<const unsigned char, 32> tag) override;

 protected:
  void write_error(const ErrorReport& report) override;

 private:
  std::string* out_;     // the connection's output buffer
  std::string* target_;  // out_, or element_ between begin_signed and end_signed
  std::string element_;  // the element of a signed reply
  Deferred deferred_;
};

}  // namespace greenrpc
