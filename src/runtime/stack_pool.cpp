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
struct StackCache {
  static constexpr std::size_t kMaxCached = 1024;
  std::mutex mutex;
  std::vector<std::pair<std::size_t, void*>> stacks;
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
      if (it->first == total) {
        base = it->second;
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
      c.stacks.emplace_back(sctx.size, base);
      return;
    }
  }
  ::munmap(base, sctx.size);
}

}  // namespace greenrpc
