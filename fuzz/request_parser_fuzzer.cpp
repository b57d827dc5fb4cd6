// libFuzzer target: the server's RESP request parser (protocol::RequestParser) on a stream of
// frames, both whole and fed in pieces through a ReadBuffer the way a connection does.
//
// Invariants: no crash or sanitizer report; both ways of feeding give the same frames and the
// same outcome; a complete frame's arguments are readable (inline ones may live in the parser's
// arena); re-encoding the arguments as a RESP array parses back to them; `needed`, when given,
// asks for more than was passed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "parse_outcome.hpp"
#include "greenrpc/protocol/read_buffer.hpp"
#include "greenrpc/protocol/request_parser.hpp"
#include "greenrpc/protocol/resp_writer.hpp"

namespace {

using greenrpc::protocol::ParseResult;
using greenrpc::protocol::ParseStatus;
using greenrpc::protocol::ProtocolLimits;
using greenrpc::protocol::ReadBuffer;
using greenrpc::protocol::RequestParser;

// Small limits, so inputs of a few KiB reach every bound.
constexpr ProtocolLimits kLimits{.max_bulk_bytes = 512, .max_array_elements = 64, .max_inline_bytes = 256,
                                 .max_reply_depth = 16};

struct Outcome {
  std::vector<std::vector<std::string>> frames;
  std::vector<bool> inline_frames;
  ParseStatus last = ParseStatus::incomplete;  // error or incomplete (the stream ran out)
  std::string error;
  bool operator==(const Outcome&) const = default;
};

// Checks one parse() result and, when complete, records the frame; returns false once the stream
// must stop (error).
bool record(RequestParser& parser, std::string_view input, const ParseResult& r, Outcome& out) {
  switch (r.status) {
    case ParseStatus::complete: {
      FUZZ_CHECK(r.consumed > 0 && r.consumed <= input.size());
      std::vector<std::string> args;
      for (std::string_view a : parser.args()) args.emplace_back(a);  // ASan: views must be live
      if (!parser.last_was_inline()) {
        for (std::string_view a : parser.args()) {
          FUZZ_CHECK(a.data() >= input.data() && a.data() + a.size() <= input.data() + r.consumed);
        }
      }
      out.frames.push_back(std::move(args));
      out.inline_frames.push_back(parser.last_was_inline());
      return true;
    }
    case ParseStatus::incomplete:
    case ParseStatus::error:
      return record_unfinished(r, input, out);
  }
  return false;
}

Outcome parse_whole(std::string_view data) {
  RequestParser parser(kLimits);
  Outcome out;
  std::size_t at = 0;
  for (;;) {
    const std::string_view input = data.substr(at);
    const ParseResult r = parser.parse(input);
    if (!record(parser, input, r, out)) return out;
    if (r.status != ParseStatus::complete) return out;
    at += r.consumed;
  }
}

// Feeds `data` in chunks whose sizes come from `plan`, through a ReadBuffer that compacts and
// grows like a connection's.
Outcome parse_in_pieces(std::string_view data, std::string_view plan) {
  RequestParser parser(kLimits);
  ReadBuffer buffer;
  Outcome out;
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
    for (;;) {  // every frame the bytes so far complete
      const std::string_view input = buffer.data();
      const ParseResult r = parser.parse(input);
      if (!record(parser, input, r, out)) return out;
      if (r.status != ParseStatus::complete) break;
      buffer.consume(r.consumed);
      out.last = ParseStatus::incomplete;
    }
  }
  return out;
}

void check_reencoding(const std::vector<std::string>& args) {
  if (args.empty()) return;
  std::vector<std::string_view> parts(args.begin(), args.end());
  std::string wire;
  greenrpc::protocol::append_command(wire, parts);
  RequestParser parser;  // default limits: the re-encoding may exceed the small ones
  const ParseResult r = parser.parse(wire);
  FUZZ_CHECK(r.status == ParseStatus::complete && r.consumed == wire.size());
  FUZZ_CHECK(parser.args().size() == args.size());
  for (std::size_t i = 0; i < args.size(); ++i) FUZZ_CHECK(parser.args()[i] == args[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(bytes), size);
  // The first two bytes choose how the stream is cut into reads; the rest is the stream.
  const std::string_view plan = all.substr(0, 2);
  const std::string_view data = all.substr(plan.size());

  const Outcome whole = parse_whole(data);
  const Outcome pieces = parse_in_pieces(data, plan);
  FUZZ_CHECK(whole.frames == pieces.frames);
  FUZZ_CHECK(whole.inline_frames == pieces.inline_frames);
  FUZZ_CHECK(whole.last == pieces.last);
  FUZZ_CHECK(whole.error == pieces.error);
  for (const auto& frame : whole.frames) check_reencoding(frame);
  return 0;
}
