#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "greenrpc/protocol/limits.hpp"
#include "greenrpc/protocol/request_parser.hpp"

namespace greenrpc::protocol {

/// One decoded RESP2 reply. `$-1` and `*-1` both decode to Type::null.
struct RespValue {
  enum class Type { simple_string, error, integer, bulk_string, null, array };
  Type type = Type::null;
  std::string str;                  ///< simple_string, error, bulk_string payload
  std::int64_t integer = 0;         ///< integer
  std::vector<RespValue> elements;  ///< array

  bool operator==(const RespValue&) const = default;
};

/// Client-side parser for RESP2 replies: `+`, `-`, `:`, `$` (incl. `$-1`), `*` (incl. `*-1`,
/// nested up to max_reply_depth).
///
/// Same incremental contract as RequestParser: `input` starts at the frame start and only grows
/// between calls. While the frame is incomplete, headers already validated are not rescanned;
/// once it is whole, one build pass reads each header line again (a few bytes) and copies each
/// payload exactly once.
class ReplyParser {
 public:
  explicit ReplyParser(ProtocolLimits limits = {});

  /// Parses the reply at the start of `input`; on `complete`, `out` is overwritten with it.
  ParseResult parse(std::string_view input, RespValue& out);

  /// Forgets partial progress (after an error, or to start on a new stream).
  void reset();


 private:
  enum class Phase : std::uint8_t { header, bulk_payload };

  ParseResult fail(std::string message);

  ProtocolLimits limits_;
  Phase phase_ = Phase::header;
  std::size_t pos_ = 0;       // next unparsed byte, relative to the frame start
  std::size_t scan_ = 0;      // where the search for '\n' resumes
  std::size_t bulk_len_ = 0;  // length of the bulk payload being awaited
  std::vector<std::int64_t> open_arrays_;  // elements still expected, per open array (outermost first)
};

}  // namespace greenrpc::protocol
