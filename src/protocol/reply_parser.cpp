#include "greenrpc/protocol/reply_parser.hpp"

#include <utility>

#include "parse_steps.hpp"
#include "protocol_errors.hpp"

namespace greenrpc::protocol {

namespace {

constexpr std::string_view kInvalidMultibulk = messages::invalid_multibulk;
constexpr std::string_view kInvalidBulk = messages::invalid_bulk;
constexpr std::string_view kInvalidInteger = "Protocol error: invalid integer reply";
constexpr std::string_view kMissingCrlf = messages::missing_crlf;
constexpr std::string_view kBadTerminator = "Protocol error: reply line not terminated by CRLF";
constexpr std::string_view kTooBigLine = "Protocol error: too big reply line";
constexpr std::string_view kTooDeep = "Protocol error: reply nesting too deep";

struct Line {
  std::string_view body;  // between the type byte and CRLF
  std::size_t next;       // offset just past the line
};

// Reads the already-validated line starting at `pos`.
Line read_line(std::string_view frame, std::size_t pos) {
  const std::size_t nl = frame.find('\n', pos);
  return {frame.substr(pos + 1, nl - 1 - (pos + 1)), nl + 1};
}

// Decodes a frame that the incremental pass has fully validated; returns the offset past `v`.
std::size_t build(std::string_view frame, std::size_t pos, RespValue& v) {
  v.str.clear();
  v.integer = 0;
  v.elements.clear();
  const char type = frame[pos];
  const Line line = read_line(frame, pos);
  switch (type) {
    case '+':
      v.type = RespValue::Type::simple_string;
      v.str.assign(line.body);
      return line.next;
    case '-':
      v.type = RespValue::Type::error;
      v.str.assign(line.body);
      return line.next;
    case ':':
      v.type = RespValue::Type::integer;
      v.integer = parse_resp_integer(line.body).value_or(0);
      return line.next;
    case '$': {
      const std::int64_t length = parse_resp_integer(line.body).value_or(-1);
      if (length < 0) {
        v.type = RespValue::Type::null;
        return line.next;
      }
      v.type = RespValue::Type::bulk_string;
      v.str.assign(frame.substr(line.next, static_cast<std::size_t>(length)));
      return line.next + static_cast<std::size_t>(length) + 2;
    }
    default: {  // '*'
      const std::int64_t count = parse_resp_integer(line.body).value_or(-1);
      if (count < 0) {
        v.type = RespValue::Type::null;
        return line.next;
      }
      v.type = RespValue::Type::array;
      // Safe: validation saw every element, so count is bounded by the bytes received.
      v.elements.resize(static_cast<std::size_t>(count));
      std::size_t next = line.next;
      for (RespValue& element : v.elements) next = build(frame, next, element);
      return next;
    }
  }
}

}  // namespace

ReplyParser::ReplyParser(ProtocolLimits limits) : limits_(limits) {
  open_arrays_.reserve(limits_.max_reply_depth < 64 ? limits_.max_reply_depth : 64);
}

void ReplyParser::reset() {
  phase_ = Phase::header;
  pos_ = 0;
  scan_ = 0;
  bulk_len_ = 0;
  open_arrays_.clear();
}

ParseResult ReplyParser::fail(std::string message) {
  reset();
  return {ParseStatus::error, 0, 0, std::move(message)};
}

ParseResult ReplyParser::parse(std::string_view input, RespValue& out) {
  // The caller must never pass fewer bytes than before; if it does, start the frame over.
  if (input.size() < pos_ || input.size() < scan_) reset();

  for (;;) {
    std::size_t next = 0;  // offset past the element that just completed
    if (phase_ == Phase::header) {
      if (pos_ >= input.size()) return {ParseStatus::incomplete};
      const char type = input[pos_];
      const bool numeric = type == ':' || type == '$' || type == '*';
      if (!numeric && type != '+' && type != '-') {
        std::string message = "Protocol error: unexpected reply type byte ' '";
        message[message.size() - 2] = type;
        return fail(std::move(message));
      }
      if (scan_ < pos_) scan_ = pos_;
      const std::size_t nl = steps::find_newline(input, scan_);
      if (nl == std::string_view::npos) {
        const std::size_t partial = input.size() - pos_;
        if (numeric && partial > steps::kMaxNumberLine) {
          return fail(std::string(type == ':' ? kInvalidInteger : type == '$' ? kInvalidBulk : kInvalidMultibulk));
        }
        // type byte + at most max_bulk_bytes of body + the '\r' of a CRLF whose '\n' is yet to come
        if (!numeric && partial > limits_.max_bulk_bytes + 2) return fail(std::string(kTooBigLine));
        return {ParseStatus::incomplete};
      }
      if (input[nl - 1] != '\r') return fail(std::string(kBadTerminator));
      const std::string_view body = input.substr(pos_ + 1, nl - 1 - (pos_ + 1));
      if (!numeric && body.size() > limits_.max_bulk_bytes) return fail(std::string(kTooBigLine));
      next = nl + 1;

      if (type == ':') {
        if (!parse_resp_integer(body)) return fail(std::string(kInvalidInteger));
      } else if (type == '$') {
        const auto length = parse_resp_integer(body);
        if (!length || *length < -1 ||
            (*length > 0 && static_cast<std::uint64_t>(*length) > limits_.max_bulk_bytes)) {
          return fail(std::string(kInvalidBulk));
        }
        if (*length >= 0) {
          pos_ = next;
          scan_ = next;
          bulk_len_ = static_cast<std::size_t>(*length);
          phase_ = Phase::bulk_payload;
          continue;
        }
      } else if (type == '*') {
        const auto count = parse_resp_integer(body);
        if (!count || *count < -1 ||
            (*count > 0 && static_cast<std::uint64_t>(*count) > limits_.max_array_elements)) {
          return fail(std::string(kInvalidMultibulk));
        }
        if (*count >= 0 && open_arrays_.size() + 1 > limits_.max_reply_depth) return fail(std::string(kTooDeep));
        if (*count > 0) {
          open_arrays_.push_back(*count);
          pos_ = next;
          scan_ = next;
          continue;
        }
      }
    } else {  // bulk payload
      const std::size_t end = pos_ + bulk_len_;
      switch (steps::bulk_end(input, end)) {
        case steps::BulkEnd::bad: return fail(std::string(kMissingCrlf));
        case steps::BulkEnd::incomplete: return {ParseStatus::incomplete, 0, end + 2};
        case steps::BulkEnd::ok: break;
      }
      next = end + 2;
      phase_ = Phase::header;
    }

    // One element completed: close every array it completes.
    pos_ = next;
    scan_ = next;
    while (!open_arrays_.empty()) {
      if (--open_arrays_.back() > 0) break;
      open_arrays_.pop_back();
    }
    if (open_arrays_.empty()) {
      const std::size_t consumed = pos_;
      build(input.substr(0, consumed), 0, out);
      reset();
      return {ParseStatus::complete, consumed};
    }
  }
}

}  // namespace greenrpc::protocol
