#pragma once
// The input buffer of a connection: grows only as bytes actually arrive (never to a size a peer
// merely declared), compacts consumed bytes away, and shrinks back after a large frame.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <span>
#include <string_view>

namespace greenrpc::protocol {

class ReadBuffer {
 public:
  // A connection's first allocation: one page, enough for most requests (a fresh or just-woken
  // idle connection allocates it; larger reads double it). Kept when idle up to kKeptWhenIdle.
  static constexpr std::size_t kInitial = 4 * 1024;
  static constexpr std::size_t kKeptWhenIdle = 64 * 1024;
  // From this capacity on, the buffer is its own memory mapping: growing it moves pages
  // (mremap) instead of copying bytes, and freeing it returns the memory to the system at once.
  // (From the heap, glibc raises its mmap threshold after a large free and then keeps later
  // large buffers in its arena: the process would hold more than the client budget counts.)
  static constexpr std::size_t kMappedFrom = 256 * 1024;

  ReadBuffer() = default;
  ReadBuffer(ReadBuffer&& other) noexcept { swap(other); }
  ReadBuffer& operator=(ReadBuffer&& other) noexcept {
    ReadBuffer(std::move(other)).swap(*this);
    return *this;
  }
  ~ReadBuffer() { release(); }

  std::string_view data() const noexcept { return {buf_ + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Space to read into: at least `min_free` bytes (compacting or doubling as needed, never past
  // `max_capacity`). Empty when `min_free` cannot fit within `max_capacity`. Throws
  // std::bad_alloc when the memory cannot be had.
  std::span<char> prepare(std::size_t min_free = 4096, std::size_t max_capacity = SIZE_MAX) {
    if (cap_ - end_ >= min_free) return {buf_ + end_, cap_ - end_};
    return prepare_slow(min_free, max_capacity);
  }
  // Bytes allocated (what the buffer costs, not what it holds).
  std::size_t capacity() const noexcept { return cap_; }
  void commit(std::size_t n) noexcept { end_ += n; }
  // Releases a large allocation once it holds nothing.
  void shrink_if_idle() noexcept {
    if (begin_ == end_ && cap_ > kKeptWhenIdle) release();
  }

 private:
  std::span<char> prepare_slow(std::size_t min_free, std::size_t max_capacity);
  // Moves the `used` bytes from begin_ into a block of `cap` bytes (cap >= used).
  void reallocate(std::size_t cap, std::size_t used);
  void release() noexcept;
  void swap(ReadBuffer& o) noexcept {
    std::swap(buf_, o.buf_);
    std::swap(cap_, o.cap_);
    std::swap(map_len_, o.map_len_);
    std::swap(begin_, o.begin_);
    std::swap(end_, o.end_);
  }

  char* buf_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t map_len_ = 0;  // > 0: buf_ is a mapping of this many bytes (cap_ rounded up to pages)
  std::size_t begin_ = 0, end_ = 0;
};

}  // namespace greenrpc::protocol
