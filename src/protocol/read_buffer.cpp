#include "greenrpc/protocol/read_buffer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace greenrpc::protocol {
namespace {

std::size_t page_rounded(std::size_t n) {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

}  // namespace

std::span<char> ReadBuffer::prepare_slow(std::size_t min_free, std::size_t max_capacity) {
  std::size_t used = end_ - begin_;
  if (begin_ > 0 && cap_ - used >= min_free) {
    std::memmove(buf_, buf_ + begin_, used);  // fits once compacted: no new block
  } else {
    if (used + min_free > max_capacity) {
      if (cap_ - used >= min_free) {  // fits once compacted, even though more than half is in use
        std::memmove(buf_, buf_ + begin_, used);
        begin_ = 0;
        end_ = used;
        return {buf_ + end_, cap_ - end_};
      }
      return {};
    }
    std::size_t cap = cap_ ? cap_ : kInitial;
    while (cap - used < min_free) cap *= 2;
    if (cap > max_capacity) cap = max_capacity;
    reallocate(cap, used);
  }
  begin_ = 0;
  end_ = used;
  return {buf_ + end_, cap_ - end_};
}

void ReadBuffer::reallocate(std::size_t cap, std::size_t used) {
  if (cap >= kMappedFrom) {
    const std::size_t len = page_rounded(cap);
    if (map_len_ > 0) {
      if (begin_ > 0) std::memmove(buf_, buf_ + begin_, used);
      begin_ = 0;  // consistent even if the remap fails
      end_ = used;
      void* moved = ::mremap(buf_, map_len_, len, MREMAP_MAYMOVE);  // pages move, bytes are not copied
      if (moved == MAP_FAILED) throw std::bad_alloc();
      buf_ = static_cast<char*>(moved);
      map_len_ = len;
      cap_ = cap;
      return;
    }
    void* mapped = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
    if (used) std::memcpy(mapped, buf_ + begin_, used);
    release();
    buf_ = static_cast<char*>(mapped);
    map_len_ = len;
    cap_ = cap;
    return;
  }
  char* grown = new char[cap];
  if (used) std::memcpy(grown, buf_ + begin_, used);
  release();
  buf_ = grown;
  cap_ = cap;
}

void ReadBuffer::release() noexcept {
  if (map_len_ > 0)
    ::munmap(buf_, map_len_);
  else
    delete[] buf_;
  buf_ = nullptr;
  cap_ = map_len_ = 0;
  begin_ = end_ = 0;
}

}  // namespace greenrpc::protocol
