#pragma once
// The input buffer of a connection: grows only as bytes actually arrive (never to a size a peer
// merely declared), compacts consumed bytes away, and shrinks back after a large frame.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace greenrpc::protocol {

class ReadBuffer {
 public:
  // A connection's first allocation: one page, enough for most requests (a fresh or just-woken
  // idle connection allocates it; larger reads double it). Kept when idle up to kKeptWhenIdle.
  static constexpr std::size_t kInitial = 4 * 1024;
  static constexpr std::size_t kKeptWhenIdle = 64 * 1024;

  std::string_view data() const noexcept { return {buf_.get() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Space to read into: at least `min_free` bytes (compacting or doubling as needed, never past
  // `max_capacity`). Empty when `min_free` cannot fit within `max_capacity`.
  std::span<char> prepare(std::size_t min_free = 4096, std::size_t max_capacity = SIZE_MAX);
  // Bytes allocated (what the buffer costs, not what it holds).
  std::size_t capacity() const noexcept { return cap_; }
  void commit(std::size_t n) noexcept { end_ += n; }
  // Releases a large allocation once it holds nothing.
  void shrink_if_idle() {
    if (begin_ == end_ && cap_ > kKeptWhenIdle) {
      buf_.reset();
      cap_ = 0;
      begin_ = end_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0, begin_ = 0, end_ = 0;
};

inline std::span<char> ReadBuffer::prepare(std::size_t min_free, std::size_t max_capacity) {
  if (cap_ - end_ >= min_free) return {buf_.get() + end_, cap_ - end_};
  std::size_t used = end_ - begin_;
  if (begin_ > 0 && cap_ - used >= min_free && used <= cap_ / 2) {
    std::memmove(buf_.get(), buf_.get() + begin_, used);
  } else {
    if (used + min_free > max_capacity) {
      if (cap_ - used >= min_free) {  // fits once compacted, even though more than half is in use
        std::memmove(buf_.get(), buf_.get() + begin_, used);
        begin_ = 0;
        end_ = used;
        return {buf_.get() + end_, cap_ - end_};
      }
      return {};
    }
    std::size_t cap = cap_ ? cap_ : kInitial;
    while (cap - used < min_free) cap *= 2;
    if (cap > max_capacity) cap = max_capacity;
    auto grown = std::make_unique_for_overwrite<char[]>(cap);
    if (used) std::memcpy(grown.get(), buf_.get() + begin_, used);
    buf_ = std::move(grown);
    cap_ = cap;
  }
  begin_ = 0;
  end_ = used;
  return {buf_.get() + end_, cap_ - end_};
}

}  // namespace greenrpc::protocol
