#include "line_reader.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace greenrpc::cli {

bool LineReader::fill() {
  if (eof_) return false;
  // Keep only the unreturned bytes, then read a chunk after them.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  constexpr std::size_t kChunk = 64 * 1024;
  const std::size_t old = buffer_.size();
  buffer_.resize(old + kChunk);
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data() + old, kChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      buffer_.resize(old);
      throw std::system_error(errno, std::generic_category(), "cannot read the input");
    }
    buffer_.resize(old + static_cast<std::size_t>(n));
    if (n == 0) eof_ = true;
    return n > 0;
  }
}

std::optional<LineReader::Line> LineReader::next() {
  Line line;
  std::size_t scanned = start_;  // bytes of the current line already searched for '\n'
  for (;;) {
    const std::size_t nl = buffer_.find('\n', scanned);
    if (nl != std::string::npos) {
      if (!line.too_long) {
        line.text.assign(buffer_, start_, nl - start_);
        if (line.text.size() > max_line_) {
          line.too_long = true;
          line.text.clear();
        }
      }
      start_ = nl + 1;
      if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
      return line;
    }
    // No newline yet: a line already over the bound is dropped as it comes.
    if (buffer_.size() - start_ > max_line_) {
      line.too_long = true;
      start_ = buffer_.size();
    }
    scanned = buffer_.size();
    const std::size_t offset = scanned - start_;
    if (!fill()) {
      if (start_ >= buffer_.size() && !line.too_long) return std::nullopt;  // nothing left
      if (!line.too_long) line.text.assign(buffer_, start_, std::string::npos);
      start_ = buffer_.size();
      if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
      return line;
    }
    scanned = start_ + offset;  // fill() moved the unreturned bytes to the front
  }
}

}  // namespace greenrpc::cli
