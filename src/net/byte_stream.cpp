#include "greenrpc/net/byte_stream.hpp"

#include <algorithm>

namespace greenrpc {

void ByteStream::write_all(std::span<const std::string_view> parts, Deadline deadline) {
  // A window over the unsent parts; its first view starts at the first unsent byte.
  constexpr std::size_t kWindow = 64;
  std::string_view window[kWindow];
  std::size_t part = 0, offset = 0;
  for (;;) {
    while (part < parts.size() && parts[part].size() == offset) {
      ++part;
      offset = 0;
    }
    if (part == parts.size()) {
      if (has_unflushed()) flush(deadline);
      return;
    }
    const std::size_t count = std::min(kWindow, parts.size() - part);
    std::copy_n(parts.begin() + static_cast<std::ptrdiff_t>(part), count, window);
    window[0].remove_prefix(offset);
    std::size_t sent = write_some(std::span<const std::string_view>(window, count), deadline);
    while (sent > 0) {
      const std::size_t left = parts[part].size() - offset;
      if (sent < left) {
        offset += sent;
        break;
      }
      sent -= left;
      ++part;
      offset = 0;
    }
  }
}

}  // namespace greenrpc
