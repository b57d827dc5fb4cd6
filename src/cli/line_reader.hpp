#pragma once
// Lines from a file descriptor (stdin for --pipe), each at most a bounded length: a longer line
// is skipped up to its newline and reported, so one runaway line neither exhausts memory nor
// ends the run.
#include <cstddef>
#include <optional>
#include <string>

namespace greenrpc::cli {

inline constexpr std::size_t kMaxPipeLine = 64u << 20;  // 64 MiB

class LineReader {
 public:
  explicit LineReader(int fd, std::size_t max_line = kMaxPipeLine) : fd_(fd), max_line_(max_line) {}

  struct Line {
    std::string text;        // without the newline (nor a '\r' before it); empty when too_long
    bool too_long = false;   // longer than max_line: its bytes were dropped
  };
  // The next line (the last one may lack its newline); nullopt at end of input. Throws
  // std::system_error when reading fails.
  std::optional<Line> next();

 private:
  bool fill();  // false at end of input

  int fd_;
  std::size_t max_line_;
  std::string buffer_;
  std::size_t start_ = 0;  // first byte of buffer_ not yet returned
  bool eof_ = false;
};

}  // namespace greenrpc::cli
