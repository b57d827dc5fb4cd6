#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/run_blocking.hpp"

namespace greenrpc {

struct BlockingPool::Impl {
  static constexpr auto kIdleExit = std::chrono::seconds(5);

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void()>> jobs;
  std::size_t threads = 0;
  std::size_t idle = 0;
  std::size_t leases = 0;
  std::uint64_t retire_round = 0;  // bumped when the last lease goes: idle threads exit
  std::size_t max_threads = std::max<std::size_t>(8, 4 * std::thread::hardware_concurrency());

  void worker() {
    ::pthread_setname_np(::pthread_self(), "greenrpc-block");
    std::unique_lock lock(mutex);
    for (;;) {
      while (jobs.empty()) {
        ++idle;
        const std::uint64_t round = retire_round;
        bool got = cv.wait_for(lock, kIdleExit, [&] { return !jobs.empty() || retire_round != round; });
        --idle;
        if (!got || (jobs.empty() && retire_round != round)) {
          --threads;
          return;
        }
      }
      auto job = std::move(jobs.front());
      jobs.pop_front();
      lock.unlock();
      job();  // jobs catch their own exceptions (run_blocking stores them for the fiber)
      job = nullptr;
      lock.lock();
      if (leases == 0 && jobs.empty()) {  // nobody left to use the pool
        --threads;
        return;
      }
    }
  }
};

BlockingPool::BlockingPool() : impl_(new Impl) {}

BlockingPool& BlockingPool::instance() {
  // Leaked on purpose: pool threads may still be finishing jobs during static destruction.
  static BlockingPool* pool = new BlockingPool;
  return *pool;
}

void BlockingPool::submit(std::function<void()> job) {
  std::unique_lock lock(impl_->mutex);
  impl_->jobs.push_back(std::move(job));
  if (impl_->idle < impl_->jobs.size() && impl_->threads < impl_->max_threads) {
    ++impl_->threads;
    std::thread([impl = impl_] { impl->worker(); }).detach();
  }
  lock.unlock();
  impl_->cv.notify_one();
}

void BlockingPool::set_max_threads(std::size_t n) {
  std::lock_guard lock(impl_->mutex);
  impl_->max_threads = std::max<std::size_t>(1, n);
}

std::size_t BlockingPool::threads() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->threads;
}

BlockingPool::Lease::Lease() {
  Impl& impl = *instance().impl_;
  std::lock_guard lock(impl.mutex);
  ++impl.leases;
}

BlockingPool::Lease::~Lease() {
  Impl& impl = *instance().impl_;
  std::lock_guard lock(impl.mutex);
  if (--impl.leases == 0) {
    ++impl.retire_round;
    impl.cv.notify_all();
  }
}

namespace {
thread_local const std::atomic<bool>* t_abandoned = nullptr;
}

bool run_blocking_abandoned() noexcept { return t_abandoned && t_abandoned->load(std::memory_order_relaxed); }

namespace detail {
void run_job_with(Deadline deadline, const std::atomic<bool>& abandoned, const std::function<void()>& job) {
  ThreadDeadlineScope scope(deadline);
  t_abandoned = &abandoned;
  job();
  t_abandoned = nullptr;
}
}  // namespace detail

}  // namespace greenrpc
