#include "reply_json.hpp"

#include "byte_text.hpp"
#include "greenrpc/codec/decode_error.hpp"

namespace greenrpc::cli {

namespace {

using Type = protocol::RespValue::Type;

Json text_or_bytes(const std::string& text, BytesFormat format) {
  if (is_valid_utf8(text)) return text;
  return format == BytesFormat::hex ? to_hex(text) : to_base64(text);
}

// Bulk strings as command results (msgpack, or text/bytes when they are not) or as text
// (the built-ins' replies: COMMAND DOCS).
enum class Bulk { msgpack, text };

Json convert(const protocol::RespValue& reply, Bulk bulk, BytesFormat format, bool& had_text) {
  switch (reply.type) {
    case Type::bulk_string:
      if (bulk == Bulk::text) return reply.str;
      try {
        return msgpack_to_json(reply.str, format);
      } catch (const codec::DecodeError&) {
        had_text = true;
        return text_or_bytes(reply.str, format);
      }
    case Type::simple_string:
      return reply.str;
    case Type::integer:
      return reply.integer;
    case Type::null:
      return nullptr;
    case Type::error:
      return Json{{"$error", reply.str}};
    case Type::array: {
      Json array = Json::array();
      for (const auto& element : reply.elements) array.push_back(convert(element, bulk, format, had_text));
      return array;
    }
  }
  return nullptr;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
    else return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= text.size()) return false;
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

ReplyJson reply_to_json(const protocol::RespValue& reply, BytesFormat format) {
  ReplyJson out;
  out.value = convert(reply, Bulk::msgpack, format, out.had_text);
  return out;
}

std::string render_reply(const protocol::RespValue& reply, const OutputFormat& format, bool* had_text) {
  ReplyJson json = reply_to_json(reply, format.bytes);
  if (had_text) *had_text = json.had_text;
  return render_json(json.value, format.pretty);
}

Json text_reply_to_json(const protocol::RespValue& reply) {
  bool had_text = false;
  return convert(reply, Bulk::text, BytesFormat::base64, had_text);
}

}  // namespace greenrpc::cli
