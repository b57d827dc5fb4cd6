#include "greenrpc/protocol/request_parser.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include "parse_steps.hpp"
#include "protocol_errors.hpp"

namespace greenrpc::protocol {

namespace {

constexpr std::string_view kInvalidMultibulk = messages::invalid_multibulk;
constexpr std::string_view kInvalidBulk = messages::invalid_bulk;
constexpr std::string_view kMissingCrlf = messages::missing_crlf;
constexpr std::string_view kTooBigInline = "Protocol error: too big inline request";
constexpr char kTlsHandshakeRecord = 0x16;
constexpr std::string_view kTlsOnPlaintext =
    "Protocol error: a TLS handshake on a plaintext port (connect without TLS, or to the TLS port)";
constexpr std::string_view kUnbalancedQuotes = "Protocol error: unbalanced quotes in request";

// Longest header line (`*`/`$`, sign, 19 digits, CRLF) is 23 bytes; anything longer is invalid.

// isspace() in the C locale, as used by sdssplitargs.
bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses the number of a `*N\r\n` / `$N\r\n` line (`line` spans type byte to '\n' inclusive).
std::optional<std::int64_t> header_number(std::string_view line) {
  if (line.size() < 3 || line[line.size() - 2] != '\r') return std::nullopt;
  return parse_resp_integer(line.substr(1, line.size() - 3));
}

// Splits an inline command line like Redis' sdssplitargs. Arguments without quotes view `line`;
// quoted ones are unescaped into `arena`, whose capacity must already hold line.size() more bytes.
bool split_inline(std::string_view line, std::vector<std::string_view>& out, std::string& arena) {
  // sdssplitargs works on a C string: a NUL ends the line.
  line = line.substr(0, line.find('\0'));
  auto at = [line](std::size_t i) -> char { return i < line.size() ? line[i] : '\0'; };

  std::size_t p = 0;
  for (;;) {
    while (p < line.size() && is_c_space(line[p])) ++p;
    if (p >= line.size()) return true;

    const std::size_t token_start = p;
    std::size_t token_end = p;
    std::size_t arena_start = 0;
    bool copying = false;  // token lives in the arena (it has quotes)
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    auto start_copy = [&] {
      if (copying) return;
      copying = true;
      arena_start = arena.size();
      arena.append(line.substr(token_start, p - token_start));
    };

    while (!done) {
      const char c = at(p);
      if (in_double) {
        if (c == '\\' && at(p + 1) == 'x' && hex_value(at(p + 2)) >= 0 && hex_value(at(p + 3)) >= 0) {
          arena.push_back(static_cast<char>(hex_value(at(p + 2)) * 16 + hex_value(at(p + 3))));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          ++p;
          switch (at(p)) {
            case 'n': arena.push_back('\n'); break;
            case 'r': arena.push_back('\r'); break;
            case 't': arena.push_back('\t'); break;
            case 'b': arena.push_back('\b'); break;
            case 'a': arena.push_back('\a'); break;
            default: arena.push_back(at(p)); break;
          }
        } else if (c == '"') {
          // A closing quote must be followed by a space or by nothing at all.
          if (at(p + 1) != '\0' && !is_c_space(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          arena.push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          arena.push_back('\'');
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !is_c_space(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          arena.push_back(c);
        }
      } else {
        switch (c) {
          case ' ': case '\n': case '\r': case '\t': case '\0':
            token_end = p;
            done = true;
            break;
          case '"': start_copy(); in_double = true; break;
          case '\'': start_copy(); in_single = true; break;
          default:
            if (copying) arena.push_back(c);
            break;
        }
      }
      if (at(p) != '\0') ++p;
    }

    if (copying) {
      out.emplace_back(arena.data() + arena_start, arena.size() - arena_start);
    } else {
      out.push_back(line.substr(token_start, token_end - token_start));
    }
  }
}

}  // namespace

std::optional<std::int64_t> parse_resp_integer(std::string_view text) noexcept {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty()) return std::nullopt;
  if (digits.front() == '0' && (digits.size() > 1 || digits.size() != text.size())) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

RequestParser::RequestParser(ProtocolLimits limits) : limits_(limits) {}

void RequestParser::reset() {
  phase_ = Phase::frame_start;
  pos_ = 0;
  scan_ = 0;
  remaining_ = 0;
  bulk_len_ = 0;
  spans_.clear();
  args_.clear();
}

void RequestParser::shrink_if_idle() {
  constexpr std::size_t kKeptBytes = 64 * 1024;
  if (phase_ != Phase::frame_start || memory_bytes() <= kKeptBytes) return;
  std::vector<Span>().swap(spans_);
  std::vector<std::string_view>().swap(args_);
  std::string().swap(arena_);
}

ParseResult RequestParser::parse(std::string_view input) {
  args_.clear();
  // The caller must never pass fewer bytes than before; if it does, start the frame over.
  if (input.size() < pos_ || input.size() < scan_) reset();

  if (phase_ == Phase::frame_start) {
    if (input.empty()) return {ParseStatus::incomplete};
    // A TLS record (a ClientHello) sent to a plaintext port: say so at once instead of waiting
    // for a line end that never comes while the client waits for a ServerHello.
    if (input.front() == kTlsHandshakeRecord) return fail(std::string(kTlsOnPlaintext));
    if (input.front() == '*') {
      phase_ = Phase::array_count;
      spans_.clear();
      scan_ = 1;
    } else {
      phase_ = Phase::inline_line;
      scan_ = 0;
    }
    pos_ = 0;
  }
  return phase_ == Phase::inline_line ? parse_inline(input) : parse_multibulk(input);
}

ParseResult RequestParser::complete(std::size_t consumed) {
  phase_ = Phase::frame_start;
  pos_ = 0;
  scan_ = 0;
  remaining_ = 0;
  bulk_len_ = 0;
  return {ParseStatus::complete, consumed};
}

ParseResult RequestParser::fail(std::string message) {
  reset();
  return {ParseStatus::error, 0, 0, std::move(message)};
}

ParseResult RequestParser::parse_multibulk(std::string_view input) {
  for (;;) {
    switch (phase_) {
      case Phase::array_count: {
        const std::size_t nl = steps::find_newline(input, scan_);
        if (nl == std::string_view::npos) {
          if (input.size() - pos_ > steps::kMaxNumberLine) return fail(std::string(kInvalidMultibulk));
          return {ParseStatus::incomplete};
        }
        const auto count = header_number(input.substr(pos_, nl + 1 - pos_));
        if (!count || *count < -1 || static_cast<std::uint64_t>(std::max<std::int64_t>(*count, 0)) >
                                         limits_.max_array_elements) {
          return fail(std::string(kInvalidMultibulk));
        }
        pos_ = nl + 1;
        scan_ = pos_;
        last_was_inline_ = false;
        if (*count <= 0) return complete(pos_);
        remaining_ = static_cast<std::size_t>(*count);
        phase_ = Phase::bulk_header;
        break;
      }
      case Phase::bulk_header: {
        if (pos_ >= input.size()) return {ParseStatus::incomplete};
        if (input[pos_] != '$') {
          std::string message = "Protocol error: expected '$', got ' '";
          message[message.size() - 2] = input[pos_];
          return fail(std::move(message));
        }
        const std::size_t nl = steps::find_newline(input, scan_);
        if (nl == std::string_view::npos) {
          if (input.size() - pos_ > steps::kMaxNumberLine) return fail(std::string(kInvalidBulk));
          return {ParseStatus::incomplete};
        }
        const auto length = header_number(input.substr(pos_, nl + 1 - pos_));
        if (!length || *length < 0 || static_cast<std::uint64_t>(*length) > limits_.max_bulk_bytes) {
          return fail(std::string(kInvalidBulk));
        }
        pos_ = nl + 1;
        bulk_len_ = static_cast<std::size_t>(*length);
        phase_ = Phase::bulk_payload;
        break;
      }
      case Phase::bulk_payload: {
        const std::size_t end = pos_ + bulk_len_;
        switch (steps::bulk_end(input, end)) {
          case steps::BulkEnd::bad: return fail(std::string(kMissingCrlf));
          case steps::BulkEnd::incomplete: return {ParseStatus::incomplete, 0, end + 2};
          case steps::BulkEnd::ok: break;
        }
        spans_.push_back({pos_, bulk_len_});
        pos_ = end + 2;
        scan_ = pos_;
        if (--remaining_ == 0) {
          for (const Span& span : spans_) args_.push_back(input.substr(span.offset, span.length));
          return complete(pos_);
        }
        phase_ = Phase::bulk_header;
        break;
      }
      case Phase::frame_start:
      case Phase::inline_line:
        return fail("Protocol error: internal parser state");
    }
  }
}

ParseResult RequestParser::parse_inline(std::string_view input) {
  const std::size_t nl = steps::find_newline(input, scan_);
  if (nl == std::string_view::npos) {
    // Without its terminator the line is at least size - 1 bytes (a trailing '\r' may be stripped).
    if (input.size() > limits_.max_inline_bytes + 1) return fail(std::string(kTooBigInline));
    return {ParseStatus::incomplete};
  }
  std::string_view line = input.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits_.max_inline_bytes) return fail(std::string(kTooBigInline));

  arena_.clear();
  if (line.find_first_of("\"'") != std::string_view::npos) arena_.reserve(line.size());
  if (!split_inline(line, args_, arena_)) {
    args_.clear();
    return fail(std::string(kUnbalancedQuotes));
  }
  last_was_inline_ = true;
  return complete(nl + 1);
}

}  // namespace greenrpc::protocol
