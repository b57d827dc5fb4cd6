#pragma once
// Steps both RESP parsers (requests and replies) take the same way.
#include <cstddef>
#include <string_view>

namespace greenrpc::protocol::steps {

// The longest `*N` / `$N` / `:N` header line accepted, CRLF included.
inline constexpr std::size_t kMaxNumberLine = 32;

// The next '\n' at or after `scan`, or npos. Moves `scan` past what was searched, so bytes that
// arrive later are searched once, not again from the start of the line.
inline std::size_t find_newline(std::string_view input, std::size_t& scan) {
  const std::size_t nl = input.find('\n', scan);
  scan = nl == std::string_view::npos ? input.size() : nl;
  return nl;
}

// The CRLF that must follow a bulk payload ending at `end`.
enum class BulkEnd { ok, incomplete, bad };
inline BulkEnd bulk_end(std::string_view input, std::size_t end) {
  if (input.size() < end + 2)  // fail early when the terminator's first byte is already wrong
    return input.size() > end && input[end] != '\r' ? BulkEnd::bad : BulkEnd::incomplete;
  return input[end] == '\r' && input[end + 1] == '\n' ? BulkEnd::ok : BulkEnd::bad;
}

}  // namespace greenrpc::protocol::steps
