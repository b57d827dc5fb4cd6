#include "http_request_parser.hpp"

#include <algorithm>

namespace greenrpc::protocol {

namespace {

// tchar (RFC 9110 §5.6.2).
bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// field-value characters: VCHAR, obs-text, SP, HTAB.
bool is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HttpMethod classify(std::string_view m) {
  if (m == "GET") return HttpMethod::get;
  if (m == "HEAD") return HttpMethod::head;
  for (std::string_view known : {"POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
    if (m == known) return HttpMethod::other;
  return HttpMethod::unknown;
}

// The path of a request target: origin-form up to '?'/'#'; absolute-form without scheme and
// authority ("/" when it has no path); anything else (asterisk, authority-form) as is.
std::string_view path_of(std::string_view target) {
  if (!target.empty() && target.front() != '/') {
    std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return target;
    std::string_view rest = target.substr(scheme_end + 3);
    std::size_t slash = rest.find_first_of("/?#");
    if (slash == std::string_view::npos || rest[slash] != '/') return "/";
    target = rest.substr(slash);
  }
  return target.substr(0, target.find_first_of("?#"));
}

}  // namespace

void HttpRequestParser::reset() {
  head_ = {};
  phase_ = Phase::request_line;
  line_start_ = scan_ = headers_ = 0;
  method_at_ = method_len_ = target_at_ = target_len_ = 0;
  minor_ = 1;
  conn_close_ = conn_keep_alive_ = transfer_encoding_ = has_length_ = false;
  content_length_ = 0;
  hosts_ = 0;
}

HttpParseResult HttpRequestParser::fail(int status, std::string_view why) {
  reset();
  return {HttpParseStatus::error, 0, status, why};
}

HttpParseResult HttpRequestParser::parse(std::string_view input) {
  // The caller must never pass fewer bytes than before; if it does, start over.
  if (input.size() < scan_) reset();
  for (;;) {
    const std::size_t from = std::max(scan_, line_start_);
    const std::size_t nl = input.find('\n', from);
    if (nl == std::string_view::npos) {
      scan_ = input.size();
      std::string_view partial = input.substr(line_start_);
      if (phase_ == Phase::request_line) {
        HttpParseResult r = check_partial_request_line(partial);
        if (r.status == HttpParseStatus::error) return r;
      }
      if (input.size() > limits_.max_head_bytes) {
        if (phase_ == Phase::request_line) return fail(400, "request line too long");
        return fail(431, "request header fields too large");
      }
      return {HttpParseStatus::incomplete};
    }
    const std::size_t line_end = nl + 1;
    if (line_end > limits_.max_head_bytes) {
      if (phase_ == Phase::request_line) {
        HttpParseResult r = check_partial_request_line(input.substr(line_start_, nl - line_start_));
        if (r.status == HttpParseStatus::error) return r;
        return fail(400, "request line too long");
      }
      return fail(431, "request header fields too large");
    }
    std::string_view line = input.substr(line_start_, nl - line_start_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t this_line = line_start_;
    line_start_ = scan_ = line_end;
    if (phase_ == Phase::request_line) {
      if (line.empty()) continue;  // RFC 9112 §2.2: empty lines before the request line are ignored
      method_at_ = this_line;
      HttpParseResult r = parse_request_line(line);
      if (r.status == HttpParseStatus::error) return r;
      phase_ = Phase::headers;
      continue;
    }
    if (line.empty()) return finish(input, line_end);
    HttpParseResult r = parse_header(line);
    if (r.status == HttpParseStatus::error) return r;
  }
}

// A request line still without its end: refuse garbage at once (a TLS ClientHello, a binary
// protocol) instead of waiting for a line end or the head limit.
HttpParseResult HttpRequestParser::check_partial_request_line(std::string_view partial) {
  if (partial == "\r") return {HttpParseStatus::incomplete};  // an empty line before the request line
  const std::size_t sp = partial.find(' ');
  const std::string_view method = partial.substr(0, sp);
  if (!std::all_of(method.begin(), method.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); }))
    return fail(400, "malformed request line");
  if (method.size() > limits_.max_method_bytes) return fail(400, "method too long");
  if (sp != std::string_view::npos) {
    if (method.empty()) return fail(400, "malformed request method");
    std::string_view target = partial.substr(sp + 1);
    target = target.substr(0, target.find(' '));
    if (target.size() > limits_.max_target_bytes) return fail(414, "request target too long");
  }
  return {HttpParseStatus::incomplete};
}

HttpParseResult HttpRequestParser::parse_request_line(std::string_view line) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  if (!is_token(method)) return fail(400, "malformed request method");
  if (method.size() > limits_.max_method_bytes) return fail(400, "method too long");
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  const std::string_view target = line.substr(sp1 + 1, sp2 == std::string_view::npos ? std::string_view::npos : sp2 - sp1 - 1);
  if (target.size() > limits_.max_target_bytes) return fail(414, "request target too long");
  if (sp2 == std::string_view::npos) return fail(400, "malformed request line (no HTTP version)");
  if (target.empty()) return fail(400, "empty request target");
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return fail(400, "invalid character in request target");
  }
  const std::string_view version = line.substr(sp2 + 1);
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || !version.starts_with("HTTP/") || !digit(version[5]) || version[6] != '.' || !digit(version[7]))
    return fail(400, "malformed HTTP version");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return fail(505, "HTTP version not supported");
  minor_ = version[7] - '0';
  method_len_ = method.size();
  target_at_ = method_at_ + sp1 + 1;
  target_len_ = target.size();
  return {HttpParseStatus::incomplete};
}

HttpParseResult HttpRequestParser::parse_header(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete line folding in header field");
  if (++headers_ > limits_.max_headers) return fail(431, "too many header fields");
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(400, "malformed header field (no colon)");
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return fail(400, "malformed header field name");
  const std::string_view value = trim_ows(line.substr(colon + 1));
  for (char c : value)
    if (!is_field_char(static_cast<unsigned char>(c))) return fail(400, "invalid character in header field value");

  if (iequals(name, "connection")) {
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view option = trim_ows(rest.substr(0, comma));
      if (iequals(option, "close")) conn_close_ = true;
      if (iequals(option, "keep-alive")) conn_keep_alive_ = true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  } else if (iequals(name, "content-length")) {
    if (value.empty() || value.size() > 18 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail(400, "invalid Content-Length");
    std::uint64_t n = 0;
    for (char c : value) n = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (has_length_ && n != content_length_) return fail(400, "conflicting Content-Length fields");
    has_length_ = true;
    content_length_ = n;
  } else if (iequals(name, "transfer-encoding")) {
    transfer_encoding_ = true;
  } else if (iequals(name, "host")) {
    if (++hosts_ > 1) return fail(400, "more than one Host field");
  }
  return {HttpParseStatus::incomplete};
}

HttpParseResult HttpRequestParser::finish(std::string_view input, std::size_t consumed) {
  if (transfer_encoding_ && has_length_) return fail(400, "both Content-Length and Transfer-Encoding");
  HttpRequestHead h;
  h.method = input.substr(method_at_, method_len_);
  h.method_kind = classify(h.method);
  h.target = input.substr(target_at_, target_len_);
  h.path = path_of(h.target);
  h.version_minor = minor_;
  h.keep_alive = minor_ == 1 ? !conn_close_ : (conn_keep_alive_ && !conn_close_);
  h.has_body = transfer_encoding_ || content_length_ > 0;
  h.header_count = headers_;
  reset();
  head_ = h;
  return {HttpParseStatus::complete, consumed};
}

}  // namespace greenrpc::protocol
