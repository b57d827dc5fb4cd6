#pragma once
// Fiber stacks with a guard page, recycled through a process-wide cache so that a new connection
// costs no mmap/mprotect in steady state. Overflow faults on the guard page instead of silently
// corrupting a neighbour (which Boost's pooled_fixedsize_stack would do).
#include <boost/context/stack_context.hpp>
#include <cstddef>

namespace greenrpc {

class GuardedStackPool {
 public:
  static constexpr std::size_t kDefaultStackSize = 128 * 1024;

  explicit GuardedStackPool(std::size_t stack_size = kDefaultStackSize) noexcept;
  // Throws std::bad_alloc when no stack can be mapped (or its guard page cannot be set).
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sctx) noexcept;

  // Test hook: the next `n` allocations that would map a new stack throw std::bad_alloc, as at
  // vm.max_map_count. Cached stacks are still handed out.
  static void fail_next_allocations_for_testing(long n) noexcept;

 private:
  std::size_t size_;  // usable bytes, page-rounded, excluding the guard page
};

}  // namespace greenrpc
