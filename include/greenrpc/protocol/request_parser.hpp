#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "greenrpc/protocol/limits.hpp"

namespace greenrpc::protocol {

/// Outcome of one parse() call.
enum class ParseStatus { complete, incomplete, error };

/// What a parser reports about the frame at the start of its input.
struct ParseResult {
  ParseStatus status;
  std::size_t consumed = 0;  ///< bytes of the complete frame (status == complete)
  std::size_t needed = 0;    ///< incomplete: minimum total bytes (from frame start) the frame needs, when known, else 0
  std::string error{};       ///< status == error: Redis-style message, e.g. "Protocol error: invalid bulk length"
};

/// Parses a RESP decimal integer the way Redis' string2ll does: optional '-', digits only,
/// no leading zeros (except "0" itself), no '+', no surrounding space, must fit in int64.
std::optional<std::int64_t> parse_resp_integer(std::string_view text) noexcept;

/// Server-side parser for requests: RESP arrays of bulk strings, or inline commands.
///
/// Incremental: `input` must always start at the first byte of the current frame, and each call
/// must pass at least the bytes passed before (the caller may move or grow its buffer in between).
/// Progress is kept as offsets from the frame start, so already-parsed bytes are never rescanned.
/// Memory use is bounded by bytes received, never by declared lengths or counts.
class RequestParser {
 public:
  explicit RequestParser(ProtocolLimits limits = {});

  /// Parses the frame at the start of `input`. On `complete`, args() holds its arguments and
  /// `consumed` its size; `*0` / `*-1` and empty inline lines complete with zero arguments.
  ParseResult parse(std::string_view input);

  /// After `complete`: the arguments, viewing the `input` of that parse() call (or, for inline
  /// arguments with quotes/escapes, the parser's own storage). Valid until the next parse()/reset().
  /// args()[0] is the command name.
  std::span<const std::string_view> args() const { return args_; }

  /// Whether the last completed frame was an inline command.
  bool last_was_inline() const { return last_was_inline_; }

  /// Forgets partial progress (after an error, or to start on a new stream).
  void reset();

  /// Bytes held by the parser's own lists (16 per argument of the largest frame so far): a frame
  /// of a million empty arguments leaves 32 MiB here. Counted in the server's client memory budget.
  std::size_t memory_bytes() const noexcept {
    static const std::size_t inline_capacity = std::string().capacity();  // an empty arena allocates nothing
    return spans_.capacity() * sizeof(Span) + args_.capacity() * sizeof(std::string_view) +
           (arena_.capacity() > inline_capacity ? arena_.capacity() : 0);
  }
  /// Between frames (no partial one), gives back lists grown past a few thousand arguments,
  /// so one huge request does not pin its lists for the connection's life. args() is emptied.
  void shrink_if_idle();


 private:
  enum class Phase : std::uint8_t { frame_start, array_count, bulk_header, bulk_payload, inline_line };
  struct Span {
    std::size_t offset;
    std::size_t length;
  };

  ParseResult parse_multibulk(std::string_view input);
  ParseResult parse_inline(std::string_view input);
  ParseResult complete(std::size_t consumed);
  ParseResult fail(std::string message);

  ProtocolLimits limits_;
  Phase phase_ = Phase::frame_start;
  std::size_t pos_ = 0;        // next unparsed byte, relative to the frame start
  std::size_t scan_ = 0;       // where the search for '\n' resumes, relative to the frame start
  std::size_t remaining_ = 0;  // bulk strings still expected in the current array
  std::size_t bulk_len_ = 0;   // length of the bulk payload being awaited
  bool last_was_inline_ = false;
  std::vector<Span> spans_;               // parsed bulk payloads of the current array (reused)
  std::vector<std::string_view> args_;    // arguments of the last complete frame (reused)
  std::string arena_;                     // unescaped inline arguments (reused)
};

}  // namespace greenrpc::protocol
