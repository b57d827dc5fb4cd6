#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "greenrpc/runtime/log.hpp"
#include "greenrpc/runtime/run_blocking.hpp"

namespace greenrpc {

struct BlockingPool::Impl {
  static constexpr std::size_t kKeepIdle = 2;
  static constexpr auto kIdleExit = std::chrono::seconds(30);

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void()>> jobs;
  std::size_t threads = 0;
  std::size_t idle = 0;
  std::size_t max_threads = std::max<std::size_t>(8, 4 * std::thread::hardware_concurrency());

  void worker() {
    ::pthread_setname_np(::pthread_self(), "greenrpc-block");
    std::unique_lock lock(mutex);
    for (;;) {
      while (jobs.empty()) {
        ++idle;
        bool got = cv.wait_for(lock, kIdleExit, [&] { return !jobs.empty(); });
        --idle;
        if (!got && threads > kKeepIdle) {
          --threads;
          return;
        }
      }
      auto job = std::move(jobs.front());
      jobs.pop_front();
      lock.unlock();
      job();  // jobs catch their own exceptions (run_blocking stores them for the fiber)
      lock.lock();
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

}  // namespace greenrpc
