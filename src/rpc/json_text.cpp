#include "json_text.hpp"

#include <charconv>
#include <limits>

namespace greenrpc::json_text {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xf];
}

// The code point of the UTF-8 sequence at text[i] and its length; {0xfffd, 1} for a byte that
// starts no valid (shortest-form, non-surrogate) sequence.
std::pair<std::uint32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length;
  std::uint32_t cp, min;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, cp = lead & 0x1f, min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, cp = lead & 0x0f, min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return {0xfffd, 1};
  }
  if (i + length > text.size()) return {0xfffd, 1};
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return {0xfffd, 1};
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {0xfffd, 1};
  return {cp, length};
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::optional<std::uint32_t> read_hex4(std::string_view in, std::size_t& pos) {
  if (pos + 4 > in.size()) return std::nullopt;
  std::uint32_t unit = 0;
  for (int k = 0; k < 4; ++k) {
    const char c = in[pos++];
    unit <<= 4;
    if (c >= '0' && c <= '9') unit |= static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') unit |= static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') unit |= static_cast<std::uint32_t>(c - 'A' + 10);
    else return std::nullopt;
  }
  return unit;
}

}  // namespace

void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      if (c == '"' || c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    switch (c) {
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    auto [cp, length] = c < 0x80 ? std::pair<std::uint32_t, std::size_t>{c, 1} : decode_utf8(text, i);
    i += length;
    if (cp < 0x10000) {
      append_u_escape(out, cp);
    } else {
      cp -= 0x10000;
      append_u_escape(out, 0xd800 | (cp >> 10));
      append_u_escape(out, 0xdc00 | (cp & 0x3ff));
    }
  }
  out += '"';
}

void append_path(std::string& out, const ErrorPath& path) {
  out += '[';
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i) out += ", ";
    if (const auto* name = std::get_if<std::string>(&path[i])) {
      append_string(out, *name);
    } else {
      char digits[24];
      const auto r = std::to_chars(digits, digits + sizeof digits, std::get<std::int64_t>(path[i]));
      out.append(digits, r.ptr);
    }
  }
  out += ']';
}

std::optional<std::string> read_string(std::string_view in, std::size_t& pos) {
  if (pos >= in.size() || in[pos] != '"') return std::nullopt;
  ++pos;
  std::string out;
  while (pos < in.size()) {
    const char c = in[pos];
    if (c == '"') {
      ++pos;
      return out;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {  // raw UTF-8 (not what we write): kept if valid, else U+FFFD
      const auto [cp, length] = decode_utf8(in, pos);
      append_utf8(out, cp);
      pos += length;
      continue;
    }
    ++pos;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (pos >= in.size()) return std::nullopt;
    switch (const char e = in[pos++]) {
      case '"': case '\\': case '/': out += e; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        auto unit = read_hex4(in, pos);
        if (!unit) return std::nullopt;
        std::uint32_t cp = *unit;
        if (cp >= 0xd800 && cp <= 0xdbff && pos + 6 <= in.size() && in[pos] == '\\' && in[pos + 1] == 'u') {
          std::size_t after = pos + 2;
          auto low = read_hex4(in, after);
          if (low && *low >= 0xdc00 && *low <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (*low - 0xdc00);
            pos = after;
          }
        }
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;  // a lone surrogate
        append_utf8(out, cp);
        break;
      }
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> read_integer(std::string_view in, std::size_t& pos) {
  std::int64_t value = 0;
  const auto r = std::from_chars(in.data() + pos, in.data() + in.size(), value);
  if (r.ec != std::errc() || r.ptr == in.data() + pos) return std::nullopt;
  pos = static_cast<std::size_t>(r.ptr - in.data());
  return value;
}

std::optional<ErrorPath> read_path(std::string_view in, std::size_t& pos) {
  if (pos >= in.size() || in[pos] != '[') return std::nullopt;
  ++pos;
  ErrorPath path;
  const auto skip_spaces = [&] {
    while (pos < in.size() && (in[pos] == ' ' || in[pos] == '\t')) ++pos;
  };
  skip_spaces();
  if (pos < in.size() && in[pos] == ']') {
    ++pos;
    return path;
  }
  while (true) {
    skip_spaces();
    if (pos < in.size() && in[pos] == '"') {
      auto s = read_string(in, pos);
      if (!s) return std::nullopt;
      path.emplace_back(std::move(*s));
    } else {
      auto n = read_integer(in, pos);
      if (!n) return std::nullopt;
      path.emplace_back(*n);
    }
    skip_spaces();
    if (pos >= in.size()) return std::nullopt;
    if (in[pos] == ']') {
      ++pos;
      return path;
    }
    if (in[pos++] != ',') return std::nullopt;
  }
}

}  // namespace greenrpc::json_text
