#pragma once
// MsgpackFramer: where one msgpack value ends in a byte stream of back-to-back values with no
// length prefix (arrpc's wire: each request and each reply is one msgpack object).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "greenrpc/protocol/request_parser.hpp"

namespace greenrpc::protocol {

/// Bounds checked as each header is read, before anything waits for the bytes it declares.
struct MsgpackFrameLimits {
  std::size_t max_frame_bytes = (64u << 20) + 256;  ///< a whole value, headers and payloads
  std::size_t max_depth = 64;                       ///< nested arrays/maps (1 = one flat container)
  std::size_t max_array = 1u << 20;                 ///< elements of one array
  std::size_t max_map = 1u << 20;                   ///< pairs of one map
};

/// Finds the end of the msgpack value at the start of its input, incrementally.
///
/// `input` must always start at the value's first byte, and each call must pass at least the
/// bytes passed before (the caller may move or grow its buffer in between). Progress is kept as
/// an offset from the value's start plus the element counts of the containers still open, so
/// bytes already walked are never walked again, and a STR/BIN/EXT payload is skipped by its
/// declared length without being read (it may arrive later: the offset then lies past the input).
/// Nothing is allocated for a declared length: a header declaring more than max_frame_bytes
/// (a str32 of 1 GB, an array of 4 billion elements, each owing at least one byte) is an error
/// at once, before its bytes are awaited. Memory: one counter per open container (max_depth).
///
/// Results: `complete` with `consumed` = the value's size (the framer is then ready for the next
/// value, at the start of the next input); `incomplete` with `needed` = the fewest total bytes the
/// value needs (a lower bound); `error` with `error` = a message starting "Protocol error: ".
/// After an error the framer must be reset() before it is used again.
class MsgpackFramer {
 public:
  explicit MsgpackFramer(MsgpackFrameLimits limits = {}) : limits_(limits) {}

  ParseResult next(std::string_view input);
  /// Forgets partial progress.
  void reset() noexcept;
  /// Bytes held for open containers' counts (the budget's view).
  std::size_t memory_bytes() const noexcept { return open_.capacity() * sizeof(std::uint64_t); }

 private:
  ParseResult fail(std::string message);
  // The fewest bytes the open containers still need besides the value being read: each owes
  // one byte per element not yet started (the one under way, which holds this value, is not).
  std::uint64_t owed_after_current() const noexcept { return open_elements_ - open_.size(); }

  MsgpackFrameLimits limits_;
  std::size_t pos_ = 0;               // the next header, from the value's start (may be past the input)
  bool done_ = false;                 // the value's last header is read; its payload may still be due
  std::vector<std::uint64_t> open_;   // elements still owed by each open array/map (a map: keys and values)
  std::uint64_t open_elements_ = 0;   // their sum
};

}  // namespace greenrpc::protocol
