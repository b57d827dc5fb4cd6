#pragma once
// How a reply leaves: the dispatcher, the handlers and the built-ins describe a reply through this
// interface and never see wire bytes. RESP is one encoder (server/resp_reply_encoder.hpp); a
// bare-msgpack or HTTP wire would be another. One virtual call per reply element, never per byte.
//
// The shapes are Redis-flavoured (simple strings, integers, arrays, nil) because the built-ins
// speak to Redis clients; a user command's reply is always ok_bytes() or error().
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "greenrpc/rpc/error_report.hpp"

namespace greenrpc {

class ReplyEncoder {
 public:
  virtual ~ReplyEncoder() = default;

  // A command's result: `msgpack` is the encoded value.
  virtual void ok_bytes(std::string_view msgpack) = 0;
  // A failure (error_report.hpp). Recorded as the reply's outcome (last_error()) for metrics.
  void error(const ErrorReport& report) {
    error_code_len_ = static_cast<unsigned char>(std::min(report.code.size(), sizeof error_code_));
    std::memcpy(error_code_, report.code.data(), error_code_len_);
    write_error(report);
  }
  // `code` is one word (error_codes.hpp, or a handler's own), `message` for people; without one,
  // a bare code.
  void error(std::string_view code, std::optional<std::string_view> message) { error(ErrorReport{code, message}); }
  // Redis's own layout, for the built-ins that imitate Redis: "ERR <text>".
  void redis_error(std::string_view code, std::string_view text) {
    error(ErrorReport{.code = code, .message = text, .free_text = true});
  }
  // The code of the last error() since clear_outcome() (cut to 32 bytes); empty: no error.
  std::string_view last_error() const noexcept { return {error_code_, error_code_len_}; }
  void clear_outcome() noexcept { error_code_len_ = 0; }
  // Bytes encoded so far, for reply-size metrics: only differences around one reply mean
  // something (an encoder may hand its bytes on between replies).
  virtual std::size_t bytes_encoded() const noexcept { return 0; }

  // Built-in reply shapes.
  virtual void simple(std::string_view text) = 0;  // a short status line ("OK", "PONG")
  virtual void bulk(std::string_view bytes) = 0;   // a binary-safe string
  virtual void integer(std::int64_t value) = 0;
  virtual void nil() = 0;
  virtual void array_header(std::size_t elements) = 0;  // followed by that many elements

  // A signed reply: the element written between begin_signed() and end_signed() is held back;
  // signed_element() gives its exact wire bytes (what the tag covers) and end_signed(tag) emits
  // [tag, element]. Only one at a time.
  virtual void begin_signed() = 0;
  virtual std::string_view signed_element() const = 0;
  virtual void end_signed(std::span<const unsigned char, 32> tag) = 0;

 protected:
  virtual void write_error(const ErrorReport& report) = 0;

 private:
  char error_code_[32];
  unsigned char error_code_len_ = 0;
};

}  // namespace greenrpc
