#include "arrpc_wire.hpp"

#include <vector>

#include "greenrpc/codec/detail/msgpack_header.hpp"
#include "greenrpc/codec/encode.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/rpc/error_line.hpp"

namespace greenrpc::arrpc {
namespace {

using codec::detail::HeaderStatus;
using codec::detail::MsgpackHeader;

// The payload of the `type` (STR or BIN) value at `pos`, advancing past it.
std::optional<std::string_view> read_bytes(const char*& pos, const char* end, msgpack::type::object_type type) {
  MsgpackHeader h;
  if (codec::detail::read_header(pos, end, h) != HeaderStatus::ok || h.value.type != type) return std::nullopt;
  if (h.payload > static_cast<std::size_t>(end - pos)) return std::nullopt;
  std::string_view bytes(pos, h.payload);
  pos += h.payload;
  return bytes;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::optional<SignedRequest> parse_signed(std::string_view frame) {
  const char* pos = frame.data();
  const char* const end = pos + frame.size();
  MsgpackHeader h;
  if (codec::detail::read_header(pos, end, h) != HeaderStatus::ok || h.value.type != msgpack::type::MAP ||
      h.value.via.map.size != 2)
    return std::nullopt;
  std::optional<std::string_view> signature, data;
  for (int i = 0; i < 2; ++i) {
    const auto key = read_bytes(pos, end, msgpack::type::STR);
    std::optional<std::string_view>* slot = nullptr;
    auto type = msgpack::type::STR;  // the signature: hexdigest() text
    if (key == kSignKey && !signature) {
      slot = &signature;
    } else if (key == kDataKey && !data) {
      slot = &data;
      type = msgpack::type::BIN;  // the message as packb(..., use_bin_type=True) bytes
    } else {
      return std::nullopt;
    }
    *slot = read_bytes(pos, end, type);
    if (!*slot) return std::nullopt;
  }
  if (pos != end) return std::nullopt;
  return SignedRequest{*signature, *data};
}

std::optional<Tag> parse_signature(std::string_view hex) {
  Tag tag{};
  if (hex.size() != tag.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < tag.size(); ++i) {
    const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    tag[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return tag;
}

bool signature_matches(const SignedRequest& request, const std::vector<HmacKey>& keys) {
  const std::optional<Tag> sent = parse_signature(request.signature);
  if (!sent) return false;
  bool matched = false;
  for (const HmacKey& key : keys) matched |= HmacKey::equal(*sent, HmacKey::Stream(key).update(request.data).finish());
  return matched;
}

std::string error_text(const ErrorReport& report) {
  const std::string_view code = report.code;
  bool cut = false;
  const std::string_view message = cut_error_message(report.message.value_or(std::string_view()), cut);
  std::string text;
  if (code == error_code::auth_error) {
    text.append(kAuthException).append(message);
    if (cut) text.append("...");
    return text;
  }
  text.append(kRpcException);
  if (code == error_code::rpc_error || code == error_code::unexpected_error || code == error_code::generic) {
    text.append(message);
  } else if (code == error_code::validation_error || code == error_code::invalid_msgpack) {
    // "invalid message: <where>: <msg> (<type>)". The location's first two steps ("command", the
    // argument) name greenrpc's command, which an arrpc peer never sent; the rest is the path
    // inside the message, dot-separated.
    text.append("invalid message: ");
    if (report.location && report.location->size() > 2) {
      for (std::size_t i = 2; i < report.location->size(); ++i) {
        if (i > 2) text += '.';
        const PathElement& step = (*report.location)[i];
        if (const auto* name = std::get_if<std::string>(&step))
          text.append(*name);
        else
          text.append(std::to_string(std::get<std::int64_t>(step)));
      }
      text.append(": ");
    }
    text.append(message);
    if (!report.type.empty()) text.append(" (").append(report.type).append(")");
  } else {
    text.append(code);
    if (!message.empty()) text.append(" ").append(message);
  }
  if (cut) text.append("...");
  return text;
}

void append_str(std::string& out, std::string_view text) {
  codec::StringSink sink(out);
  msgpack::packer<codec::StringSink> packer(sink);
  packer.pack_str(static_cast<std::uint32_t>(text.size()));
  packer.pack_str_body(text.data(), static_cast<std::uint32_t>(text.size()));
}

}  // namespace greenrpc::arrpc
