#include "greenrpc/runtime/reactor.hpp"

#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/fiber_properties.hpp"
#include "greenrpc/runtime/log.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/fiber/context.hpp>
#include <cassert>
#include <cerrno>
#include <system_error>

namespace greenrpc {
namespace {

constexpr std::uint64_t kEventFdTag = ~std::uint64_t{0};
constexpr std::uint32_t kEpollFlags = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

std::uint64_t tag_of(std::uint32_t index, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | index;
}

}  // namespace

Reactor::Reactor() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = kEventFdTag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) < 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(eventfd)");
  events_.resize(256);
}

Reactor::~Reactor() {
  ::close(event_fd_);
  ::close(epoll_fd_);
}

void Reactor::post(std::function<void()> task) {
  {
    std::lock_guard lock(post_mutex_);
    posted_.push_back(std::move(task));
  }
  // seq_cst here and in wake_up()/poll(): publish-then-check on two variables (a Dekker-style
  // handshake with the loop's re-arm-then-check) needs a total order, not just release/acquire.
  posted_flag_.store(true);
  wake_up();
}

void Reactor::wake_up() noexcept {
  if (wake_pending_.exchange(true)) return;  // a wake is already latched
  std::uint64_t one = 1;
  ssize_t rc;
  do {
    rc = ::write(event_fd_, &one, sizeof one);
  } while (rc < 0 && errno == EINTR);
}

FdRegistration Reactor::add_fd(int fd) {
  assert(on_owner_thread());
  std::uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.fd = fd;
  slot.reader = slot.writer = nullptr;
  slot.read_ready = true;
  slot.hung_up = false;
  epoll_event ev{};
  ev.events = kEpollFlags;
  ev.data.u64 = tag_of(index, slot.generation);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int err = errno;
    slot.fd = -1;
    ++slot.generation;
    free_slots_.push_back(index);
    throw std::system_error(err, std::generic_category(), "epoll_ctl(ADD)");
  }
  return FdRegistration{index, slot.generation};
}

Reactor::Slot* Reactor::slot_for(const FdRegistration& reg) {
  if (!reg.valid() || reg.index >= slots_.size()) return nullptr;
  Slot& slot = slots_[reg.index];
  return (slot.generation == reg.generation && slot.fd >= 0) ? &slot : nullptr;
}

void Reactor::cancel_fd(const FdRegistration& reg) {
  assert(on_owner_thread());
  Slot* slot = slot_for(reg);
  if (!slot) return;
  if (Waiter* w = std::exchange(slot->reader, nullptr)) w->cancel();
  if (Waiter* w = std::exchange(slot->writer, nullptr)) w->cancel();
}

void Reactor::remove_fd(FdRegistration& reg) {
  assert(on_owner_thread());
  Slot* slot = slot_for(reg);
  if (slot) {
    // close() would silently drop the fd from epoll and strand a parked fiber: wake it first.
    cancel_fd(reg);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, slot->fd, nullptr);
    slot->fd = -1;
    ++slot->generation;  // late events for this index are now stale
    free_slots_.push_back(reg.index);
  }
  reg = FdRegistration{};
}

bool Reactor::watch_fd(const FdRegistration& reg, IoDirection dir, Waiter& armed) {
  assert(on_owner_thread());
  assert(armed.armed());
  Slot* slot = slot_for(reg);
  if (!slot) return false;
  Waiter*& field = dir == IoDirection::read ? slot->reader : slot->writer;
  if (field != nullptr) throw std::logic_error("greenrpc: two waiters on one fd in the same direction");
  field = &armed;
  return true;
}

void Reactor::unwatch_fd(const FdRegistration& reg, IoDirection dir, Waiter& armed) noexcept {
  if (Slot* slot = slot_for(reg)) {
    Waiter*& field = dir == IoDirection::read ? slot->reader : slot->writer;
    if (field == &armed) field = nullptr;
  }
}

Waiter::Result Reactor::wait_fd(const FdRegistration& reg, IoDirection dir, Deadline deadline) {
  assert(on_owner_thread());
  Slot* slot = slot_for(reg);
  if (!slot) return Waiter::Result::cancelled;
  Waiter waiter;
  Waiter*& field = dir == IoDirection::read ? slot->reader : slot->writer;
  if (field != nullptr) throw std::logic_error("greenrpc: two fibers waiting on one fd in the same direction");
  field = &waiter;
  Waiter::Result result = waiter.park(deadline);
  // slots_ may have grown while parked: look the slot up again.
  if (Slot* again = slot_for(reg)) {
    Waiter*& f = dir == IoDirection::read ? again->reader : again->writer;
    if (f == &waiter) f = nullptr;
  }
  return result;
}

void Reactor::run_timers(Clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->due_ <= now)
    timers_.begin()->resume(Waiter::Result::timed_out);  // unlinks it
}

void Reactor::run_posted() {
  if (!posted_flag_.exchange(false)) return;
  {
    std::lock_guard lock(post_mutex_);
    running_.swap(posted_);
  }
  for (auto& task : running_) {
    // Tasks run on the dispatcher inside a noexcept scheduler call: an escaping exception
    // would terminate the process. Record only; nothing here parks.
    try {
      task();
    } catch (const std::exception& e) {
      log_line(LogLevel::error, std::string("posted task failed: ") + e.what());
    } catch (...) {
      log_line(LogLevel::error, "posted task failed with a non-standard exception");
    }
  }
  running_.clear();
}

void Reactor::poll(Clock::time_point until) {
  int timeout_ms = -1;
  if (posted_flag_.load() || until == Clock::time_point::min()) {
    timeout_ms = 0;
  } else {
    Clock::time_point wake_at = until;
    if (!timers_.empty() && timers_.begin()->due_ < wake_at) wake_at = timers_.begin()->due_;
    if (wake_at != Clock::time_point::max()) {
      auto now = Clock::now();
      if (wake_at <= now) {
        timeout_ms = 0;
      } else {
        // Round up so a timer is never polled for before it is due (no busy loop).
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(wake_at - now).count();
        timeout_ms = static_cast<int>(std::min<long long>((us + 999) / 1000, 60'000));
      }
    }
  }
  // Time asleep, for a worker's busy-time metric: only waits that may sleep read the clock.
  // A sleep in progress is published too (asleep_since_), so a reader sees idle time grow during
  // a long sleep rather than all at once when it ends.
  const Clock::time_point asleep_from = timeout_ms != 0 ? Clock::now() : Clock::time_point{};
  if (timeout_ms != 0) asleep_since_ns_.store(asleep_from.time_since_epoch().count(), std::memory_order_release);
  int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (timeout_ms != 0) {
    const auto slept = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - asleep_from).count();
    idle_ns_.store(idle_ns_.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(slept), std::memory_order_release);
    asleep_since_ns_.store(0, std::memory_order_release);
  }
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events_[i];
    if (ev.data.u64 == kEventFdTag) {
      // Drain first, then re-arm. The other order loses wakes: a wake_up() landing between the
      // two would be drained without a new edge while wake_pending_ stayed true, so no later
      // wake_up() would write again and epoll_wait could sleep forever. In this order a wake_up()
      // that sees wake_pending_ still true has published its work (posted task or remote-ready
      // fiber) before, and this round's run_posted() / the dispatcher picks it up.
      std::uint64_t count;
      while (::read(event_fd_, &count, sizeof count) > 0) {
      }
      wake_pending_.store(false);
      continue;
    }
    FdRegistration reg{static_cast<std::uint32_t>(ev.data.u64), static_cast<std::uint32_t>(ev.data.u64 >> 32)};
    Slot* slot = slot_for(reg);
    if (!slot) continue;  // stale event for a closed (maybe reused) fd
    if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
      slot->read_ready = true;
      if (ev.events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) slot->hung_up = true;
      if (slot->reader) std::exchange(slot->reader, nullptr)->wake();
    }
    if ((ev.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && slot->writer) std::exchange(slot->writer, nullptr)->wake();
  }
  if (n == static_cast<int>(events_.size()) && events_.size() < 4096) events_.resize(events_.size() * 2);
  if (!timers_.empty()) run_timers(Clock::now());
  run_posted();
}

// ---- Waiter -------------------------------------------------------------------------------

Waiter::~Waiter() {
  if (timer_hook_.is_linked()) reactor_->timers_.erase(reactor_->timers_.iterator_to(*this));
}

Waiter::Result Waiter::park(Deadline deadline, Interrupt interrupt) {
  Reactor* reactor = Reactor::current();
  if (!reactor) throw std::logic_error("greenrpc::Waiter::park called outside a greenrpc runtime thread");
  boost::fibers::context* self = boost::fibers::context::active();
  assert(!self->is_context(boost::fibers::type::dispatcher_context) && "park from a posted task");
  CancelToken* token = nullptr;
  bool inherited = false;
  if (interrupt == Interrupt::honour) {
    if (FiberProperties* props = FiberProperties::current()) {
      token = props->token.get();
      if (token && token->cancelled()) return Result::cancelled;
      if (props->deadline.time_point() < deadline.time_point()) {
        deadline = props->deadline;
        inherited = true;
      }
    }
  }
  if (deadline.expired()) return inherited ? Result::deadline_exceeded : Result::timed_out;
  reactor_ = reactor;
  ctx_ = self;
  if (!deadline.is_never()) {
    due_ = deadline.time_point();
    due_inherited_ = inherited;
    reactor->timers_.insert(*this);
  }
  if (token) token->parked_.push_back(*this);
  ctx_->suspend();
  return result_;
}

void Waiter::arm(Deadline deadline, Callback callback, void* arg) {
  Reactor* reactor = Reactor::current();
  if (!reactor) throw std::logic_error("greenrpc::Waiter::arm called outside a greenrpc runtime thread");
  assert(ctx_ == nullptr && callback_ == nullptr && "arming a waiter that already waits");
  assert(callback != nullptr);
  reactor_ = reactor;
  callback_ = callback;
  callback_arg_ = arg;
  due_inherited_ = false;
  if (!deadline.is_never()) {
    due_ = deadline.time_point();
    reactor->timers_.insert(*this);  // an expired deadline fires at the next poll, never from here
  }
}

void Waiter::disarm() noexcept {
  if (!callback_) return;
  if (timer_hook_.is_linked()) reactor_->timers_.erase(reactor_->timers_.iterator_to(*this));
  callback_ = nullptr;
  callback_arg_ = nullptr;
}

bool Waiter::resume(Result why) {
  if (callback_) {
    if (timer_hook_.is_linked()) reactor_->timers_.erase(reactor_->timers_.iterator_to(*this));
    Callback callback = std::exchange(callback_, nullptr);
    void* arg = std::exchange(callback_arg_, nullptr);
    callback(arg, why);  // may destroy this waiter: nothing of it is touched after
    return true;
  }
  if (ctx_ == nullptr) return false;
  if (timer_hook_.is_linked()) reactor_->timers_.erase(reactor_->timers_.iterator_to(*this));
  cancel_hook_.unlink();
  boost::fibers::context* ctx = std::exchange(ctx_, nullptr);
  if (why == Result::timed_out && due_inherited_) why = Result::deadline_exceeded;
  result_ = why;
  boost::fibers::context* active = boost::fibers::context::active();
  assert(active != ctx && "waking the fiber that is suspending");  // reactor polls run on the dispatcher
  active->schedule(ctx);
  return true;
}

void throw_if_interrupted(Waiter::Result result, const char* what) {
  if (result == Waiter::Result::cancelled) throw CancelledError(std::string(what) + " cancelled");
  if (result == Waiter::Result::deadline_exceeded)
    throw DeadlineExceededError(std::string(what) + ": the request's deadline passed");
}

}  // namespace greenrpc
