#include "greenrpc/runtime/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <new>
#include <vector>

namespace greenrpc {
namespace {

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

// Process-wide cache of mapped stacks, keyed by total mapping size. Bounded, so a burst of
// connections does not pin its peak stack memory forever.
struct CachedStack {
  std::size_t size;  // of the whole mapping, guard page included
  void* base;
  bool trimmed;  // its pages were given back (MADV_DONTNEED): the next use faults them in again
};

struct StackCache {
  static constexpr std::size_t kMaxCached = 1024;
  // The most recently freed stacks keep their pages (the next fibers reuse them hot); deeper in
  // the cache, a stack's pages go back to the system (MADV_DONTNEED): after a burst of busy
  // connections went dormant, the cache pins address space, not memory.
  static constexpr std::size_t kHotCached = 16;
  std::mutex mutex;
  std::vector<CachedStack> stacks;
};

StackCache& cache() {
  static StackCache* c = new StackCache;  // never destroyed: fibers may end during static teardown
  return *c;
}

std::atomic<long>& injected_failures() {
  static std::atomic<long> n{0};
  return n;
}

}  // namespace

void GuardedStackPool::fail_next_allocations_for_testing(long n) noexcept {
  injected_failures().store(n, std::memory_order_relaxed);
}

GuardedStackPool::GuardedStackPool(std::size_t stack_size) noexcept {
  std::size_t page = page_size();
  if (stack_size < 4 * page) stack_size = 4 * page;
  size_ = (stack_size + page - 1) / page * page;
}

boost::context::stack_context GuardedStackPool::allocate() {
  const std::size_t total = size_ + page_size();
  void* base = nullptr;
  {
    StackCache& c = cache();
    std::lock_guard lock(c.mutex);
    for (auto it = c.stacks.rbegin(); it != c.stacks.rend(); ++it) {
      if (it->size == total) {
        base = it->base;
        c.stacks.erase(std::next(it).base());
        break;
      }
    }
  }
  if (!base) {
    if (injected_failures().load(std::memory_order_relaxed) > 0 &&
        injected_failures().fetch_sub(1, std::memory_order_relaxed) > 0)
      throw std::bad_alloc();
    // Each stack is two mappings (the guard page splits it): at vm.max_map_count (65530 by
    // default) mmap or mprotect fails with ENOMEM, around 30,000 fibers.
    base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    if (::mprotect(base, page_size(), PROT_NONE) != 0) {  // guard page at the low end: stacks grow down
      ::munmap(base, total);
      throw std::bad_alloc();  // a stack without its guard page is not handed out
    }
  }
  boost::context::stack_context sctx;
  sctx.size = total;
  sctx.sp = static_cast<char*>(base) + total;
  return sctx;
}

void GuardedStackPool::deallocate(boost::context::stack_context& sctx) noexcept {
  void* base = static_cast<char*>(sctx.sp) - sctx.size;
  {
    StackCache& c = cache();
    std::lock_guard lock(c.mutex);
    if (c.stacks.size() < StackCache::kMaxCached) {
      c.stacks.push_back({sctx.size, base, false});
      // The stack just pushed out of the hot set (allocate takes from the back) gives its pages
      // back. Under the lock: no other thread may take it meanwhile. Once per stack, and only
      // while more than kHotCached stacks wait, i.e. after a burst.
      if (c.stacks.size() > StackCache::kHotCached) {
        CachedStack& cold = c.stacks[c.stacks.size() - 1 - StackCache::kHotCached];
        if (!cold.trimmed) {
          ::madvise(static_cast<char*>(cold.base) + page_size(), cold.size - page_size(), MADV_DONTNEED);
          cold.trimmed = true;
        }
      }
      return;
    }
  }
  ::munmap(base, sctx.size);
}

}  // namespace greenrpc
