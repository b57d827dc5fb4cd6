// libFuzzer target: the client's RESP reply parser (protocol::ReplyParser) on a stream of
// replies, both whole and fed in pieces through a ReadBuffer the way a connection does.
//
// Invariants: no crash or sanitizer report; both ways of feeding give the same replies and the
// same outcome (error or not); nesting stays within max_reply_depth; a reply written back with resp_writer
// parses to the same value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "parse_outcome.hpp"
#include "greenrpc/protocol/read_buffer.hpp"
#include "greenrpc/protocol/reply_parser.hpp"
#include "greenrpc/protocol/resp_writer.hpp"

namespace {

using greenrpc::protocol::ParseResult;
using greenrpc::protocol::ParseStatus;
using greenrpc::protocol::ProtocolLimits;
using greenrpc::protocol::ReadBuffer;
using greenrpc::protocol::ReplyParser;
using greenrpc::protocol::RespValue;

constexpr ProtocolLimits kLimits{.max_bulk_bytes = 512, .max_array_elements = 64, .max_inline_bytes = 256,
                                 .max_reply_depth = 8};

struct Outcome {
  std::vector<RespValue> replies;
  ParseStatus last = ParseStatus::incomplete;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

std::size_t depth(const RespValue& v) {
  if (v.type != RespValue::Type::array) return 0;
  std::size_t deepest = 0;
  for (const RespValue& e : v.elements) deepest = std::max(deepest, depth(e));
  return deepest + 1;
}

bool record(std::string_view input, const ParseResult& r, RespValue& value, Outcome& out) {
  switch (r.status) {
    case ParseStatus::complete:
      FUZZ_CHECK(r.consumed > 0 && r.consumed <= input.size());
      FUZZ_CHECK(depth(value) <= kLimits.max_reply_depth);
      out.replies.push_back(std::move(value));
      value = RespValue{};
      return true;
    case ParseStatus::incomplete:
    case ParseStatus::error:
      return record_unfinished(r, input, out);
  }
  return false;
}

Outcome parse_whole(std::string_view data) {
  ReplyParser parser(kLimits);
  Outcome out;
  RespValue value;
  std::size_t at = 0;
  for (;;) {
    const std::string_view input = data.substr(at);
    const ParseResult r = parser.parse(input, value);
    if (!record(input, r, value, out) || r.status != ParseStatus::complete) return out;
    at += r.consumed;
  }
}

Outcome parse_in_pieces(std::string_view data, std::string_view plan) {
  ReplyParser parser(kLimits);
  ReadBuffer buffer;
  Outcome out;
  RespValue value;
  std::size_t fed = 0;
  std::size_t step = 0;
  while (fed < data.size()) {
    std::size_t chunk = plan.empty() ? 1 : static_cast<unsigned char>(plan[step++ % plan.size()]) % 64 + 1;
    if (chunk > data.size() - fed) chunk = data.size() - fed;
    std::span<char> space = buffer.prepare(chunk);
    FUZZ_CHECK(space.size() >= chunk);
    std::copy_n(data.data() + fed, chunk, space.data());
    buffer.commit(chunk);
    fed += chunk;
    for (;;) {
      const std::string_view input = buffer.data();
      const ParseResult r = parser.parse(input, value);
      if (!record(input, r, value, out)) return out;
      if (r.status != ParseStatus::complete) break;
      buffer.consume(r.consumed);
      out.last = ParseStatus::incomplete;
    }
  }
  return out;
}

// Writes `v` back as RESP; false when resp_writer would change it (a '\r' inside a simple string
// or error line is written as a space).
bool write(const RespValue& v, std::string& out) {
  namespace p = greenrpc::protocol;
  switch (v.type) {
    case RespValue::Type::simple_string:
      if (v.str.find_first_of("\r\n") != std::string::npos) return false;
      p::append_simple(out, v.str);
      return true;
    case RespValue::Type::error:
      if (v.str.find_first_of("\r\n") != std::string::npos) return false;
      p::append_error(out, v.str);
      return true;
    case RespValue::Type::integer: p::append_integer(out, v.integer); return true;
    case RespValue::Type::bulk_string: p::append_bulk(out, v.str); return true;
    case RespValue::Type::null: p::append_null(out); return true;
    case RespValue::Type::array:
      p::append_array_header(out, v.elements.size());
      for (const RespValue& e : v.elements) {
        if (!write(e, out)) return false;
      }
      return true;
  }
  return false;
}

void check_rewrite(const RespValue& v) {
  std::string wire;
  if (!write(v, wire)) return;
  ReplyParser parser;
  RespValue back;
  const ParseResult r = parser.parse(wire, back);
  FUZZ_CHECK(r.status == ParseStatus::complete && r.consumed == wire.size());
  FUZZ_CHECK(back == v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(bytes), size);
  const std::string_view plan = all.substr(0, 2);  // how the stream is cut into reads
  const std::string_view data = all.substr(plan.size());

  const Outcome whole = parse_whole(data);
  const Outcome pieces = parse_in_pieces(data, plan);
  FUZZ_CHECK(whole.replies == pieces.replies);
  FUZZ_CHECK(whole.last == pieces.last);
  // Not the error text: for an over-long numeric line without CR, a reply read in pieces fails
  // on the length ("invalid multibulk length") before the '\n' arrives, a whole one on the
  // terminator ("reply line not terminated by CRLF"). Both are errors; only the wording differs.
  for (const RespValue& v : whole.replies) check_rewrite(v);
  return 0;
}
