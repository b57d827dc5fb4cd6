#pragma once
// One per runtime thread: the epoll set, the timer heap, and the cross-thread task queue.
// The scheduling algorithm (EpollScheduler) calls poll() when no fiber is ready, and every few
// picks under load so that I/O and timers are never starved by busy fibers.
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include <boost/intrusive/set.hpp>

#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

// A file descriptor registered with a reactor. The generation makes events for a closed and
// reused fd number harmless: they no longer match the slot and are dropped.
struct FdRegistration {
  std::uint32_t index = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const { return index != UINT32_MAX; }
};

enum class IoDirection { read, write };

class Reactor {
 public:
  // Nanoseconds this reactor's thread spent asleep in epoll_wait since it started (written by
  // its thread only; any thread may read it): busy time = wall time - this.
  // Includes a sleep in progress. Two loads, so a reading taken as the thread wakes may be off
  // by that sleep once: readers that need a monotonic value keep the largest seen.
  std::uint64_t idle_ns() const noexcept {
    const std::int64_t since = asleep_since_ns_.load(std::memory_order_acquire);
    std::uint64_t idle = idle_ns_.load(std::memory_order_acquire);
    if (since != 0) {
      const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
      if (now > since) idle += static_cast<std::uint64_t>(now - since);
    }
    return idle;
  }
  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // The reactor of the calling thread, or nullptr on a thread without a greenrpc runtime.
  static Reactor* current() noexcept;

  // Thread-safe: runs `task` on this reactor's thread, in the scheduler loop (on a small stack:
  // keep it short — wake a fiber or spawn one). Tasks run in posting order.
  void post(std::function<void()> task);
  // Thread-safe: interrupts epoll_wait (used by the scheduler's notify()).
  void wake_up() noexcept;

  // Fd registration (owner thread only). Registered edge-triggered for read and write.
  FdRegistration add_fd(int fd);
  // Wakes any parked waiter with `cancelled`, then forgets the fd. Call before close().
  void remove_fd(FdRegistration& reg);
  // Parks the calling fiber until the fd is ready in `dir`, the deadline passes, or the
  // registration is cancelled. Try the syscall first; call this only after EAGAIN.
  Waiter::Result wait_fd(const FdRegistration& reg, IoDirection dir, Deadline deadline);
  // The same without a fiber: makes `armed` (Waiter::arm) the fd's waiter in `dir`; readiness,
  // cancel_fd and remove_fd then call its callback. The callback runs unwatch_fd (a timer leaves
  // the waiter registered). False, calling nothing, when the fd is no longer registered. Check
  // read_ready() first: an edge that came before is not replayed.
  bool watch_fd(const FdRegistration& reg, IoDirection dir, Waiter& armed);
  void unwatch_fd(const FdRegistration& reg, IoDirection dir, Waiter& armed) noexcept;
  // Wakes with `cancelled` whoever waits on the fd (e.g. a server shutting a connection down).
  void cancel_fd(const FdRegistration& reg);
  // Read readiness seen while no fiber waited. A stream that just drained the socket (short
  // read) clears it and then parks at once unless an event set it again — saving the recv that
  // would only return EAGAIN, without ever missing an edge.
  bool read_ready(const FdRegistration& reg) {
    Slot* slot = slot_for(reg);
    return !slot || slot->read_ready;
  }
  void clear_read_ready(const FdRegistration& reg) {
    // A hang-up stays: the FIN may have come with the data just read, and EOF then still waits
    // to be read with no further edge to announce it.
    if (Slot* slot = slot_for(reg); slot && !slot->hung_up) slot->read_ready = false;
  }

  // Fibers started on this thread through greenrpc (spawn, EventLoopThread::spawn_fiber) that
  // have not returned yet. Owner thread only.
  void fiber_started() noexcept { ++live_fibers_; }
  void fiber_ended() noexcept {
    if (--live_fibers_ == 0 && fibers_done_) fibers_done_->wake();
  }
  std::size_t live_fibers() const noexcept { return live_fibers_; }
  // Wakes `w` (once) when the count drops to zero; null to stop watching.
  void watch_fibers_done(Waiter* w) noexcept { fibers_done_ = w; }
  // True on this reactor's own thread (debug assertions of owner-only calls use it).
  bool on_owner_thread() const noexcept { return current() == this; }

  // Runs one round: ready fds, expired timers, posted tasks. `until` bounds the sleep (may
  // return early). Called by the scheduler.
  void poll(Clock::time_point until);

 private:
  friend class Waiter;
  friend class EpollScheduler;
  struct TimerOrder {
    bool operator()(const Waiter& a, const Waiter& b) const { return a.due_ < b.due_; }
  };
  using TimerSet = boost::intrusive::multiset<
      Waiter, boost::intrusive::member_hook<Waiter, boost::intrusive::set_member_hook<>, &Waiter::timer_hook_>,
      boost::intrusive::compare<TimerOrder>>;

  struct Slot {
    int fd = -1;
    std::uint32_t generation = 0;
    Waiter* reader = nullptr;
    Waiter* writer = nullptr;
    bool read_ready = true;  // unknown counts as ready: try the syscall
    bool hung_up = false;    // the peer closed (RDHUP/HUP/ERR seen): reads end at once
  };
  Slot* slot_for(const FdRegistration& reg);
  void run_timers(Clock::time_point now);
  void run_posted();

  int epoll_fd_ = -1;
  int event_fd_ = -1;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  TimerSet timers_;
  std::vector<epoll_event> events_;

  std::size_t live_fibers_ = 0;
  Waiter* fibers_done_ = nullptr;

  std::mutex post_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;
  std::atomic<bool> posted_flag_{false};
  std::atomic<bool> wake_pending_{false};
  std::atomic<std::uint64_t> idle_ns_{0};
  std::atomic<std::int64_t> asleep_since_ns_{0};  // steady clock ns when the current sleep began; 0 awake
};

}  // namespace greenrpc
