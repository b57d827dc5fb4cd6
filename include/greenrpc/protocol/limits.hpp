#pragma once

#include <cstddef>

namespace greenrpc::protocol {

/// Upper bounds the RESP parsers enforce before trusting anything a peer declares.
/// Exceeding any of them is a protocol error; memory use stays bounded by bytes received.
struct ProtocolLimits {
  std::size_t max_bulk_bytes = 64u << 20;     ///< largest bulk string accepted
  std::size_t max_array_elements = 1u << 20;  ///< most elements in one request array (or reply array)
  std::size_t max_inline_bytes = 64u << 10;   ///< longest inline command line
  std::size_t max_reply_depth = 16;           ///< nesting of reply arrays (reply parser)
};

}  // namespace greenrpc::protocol
