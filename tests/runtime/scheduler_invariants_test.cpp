// Invariants of EpollScheduler + Reactor that the rest of the runtime rests on: where posted tasks
// run, one resumption per park when a timer and I/O coincide, stale fd registrations, and polls
// that keep happening under sustained load. Each test names what it guards; every wait is bounded.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/fiber/context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/fiber_properties.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/waiter.hpp"
#include "../support/fiber_harness.hpp"
#include "../support/process_threads.hpp"

using namespace greenrpc;
using namespace greenrpc::test;
using namespace std::chrono_literals;

namespace {

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0) fd[0] = fd[1] = -1;
  }
  ~SocketPair() { close_both(); }
  void close_both() {
    for (int& f : fd)
      if (f >= 0) ::close(std::exchange(f, -1));
  }
  bool ok() const { return fd[0] >= 0; }
};

bool on_dispatcher() {
  return boost::fibers::context::active()->is_context(boost::fibers::type::dispatcher_context);
}

}  // namespace

// ---- (a) posted tasks run on the dispatcher ------------------------------------------------------

// Guards: the reactor is polled only on Boost's dispatcher context — also by the every-32-picks
// poll under load — so a posted task never runs on a fiber's stack: FiberProperties::current(true)
// is nullptr there (it would create properties for whichever fiber was suspending), and
// Reactor::poll is never entered from a suspending fiber.
TEST(SchedulerInvariants, PostedTasksRunOnTheDispatcherEvenUnderLoad) {
  EventLoopThread loop("test");
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto yields = std::make_shared<std::atomic<long>>(0);
  constexpr int kYielders = 50;
  for (int i = 0; i < kYielders; ++i)
    loop.spawn_fiber([stop, yields] {
      const Deadline limit = Deadline::after(3s);
      while (!*stop && !limit.expired()) {
        yield();
        ++*yields;
      }
    });
  // Let the yielders get going: from now on the ready queue never empties, so only the periodic
  // poll in pick_next can run the posted tasks.
  const auto warm = Clock::now();
  while (yields->load() < 10'000 && Clock::now() - warm < 2s) std::this_thread::sleep_for(1ms);
  ASSERT_GE(yields->load(), 10'000);

  constexpr int kPosts = 300;
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto on_fiber_stack = std::make_shared<std::atomic<int>>(0);
  auto with_props = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kPosts; ++i) {
    ASSERT_TRUE(loop.post([ran, on_fiber_stack, with_props] {
      if (!on_dispatcher()) ++*on_fiber_stack;
      if (FiberProperties::current(/*create=*/true) != nullptr) ++*with_props;
      ++*ran;
    }));
    if (i % 10 == 0) std::this_thread::sleep_for(1ms);
  }
  const auto t0 = Clock::now();
  while (ran->load() < kPosts && Clock::now() - t0 < 2s) std::this_thread::sleep_for(1ms);
  const long yields_at_end = yields->load();
  *stop = true;
  EXPECT_EQ(ran->load(), kPosts) << "posted tasks starved by yielding fibers";
  EXPECT_EQ(on_fiber_stack->load(), 0) << "a posted task ran on a fiber's stack";
  EXPECT_EQ(with_props->load(), 0) << "FiberProperties::current(true) gave a posted task a fiber's properties";
  EXPECT_GT(yields_at_end, 20'000) << "the yielders were not busy while the tasks ran";
  EXPECT_TRUE(loop.stop_within(Deadline::after(3s)));
}

// Guards: the same for a task posted while the loop idles (run from suspend_until), and a fiber
// that task spawns is a real fiber (has properties once asked, is not the dispatcher).
TEST(SchedulerInvariants, PostedTaskOnAnIdleLoopRunsOnTheDispatcher) {
  EventLoopThread loop("test");
  auto result = std::make_shared<std::promise<std::pair<bool, bool>>>();
  auto f = result->get_future();
  ASSERT_TRUE(loop.post([result] {
    const bool task_ok = on_dispatcher() && FiberProperties::current(true) == nullptr;
    spawn([result, task_ok] { result->set_value({task_ok, !on_dispatcher() && FiberProperties::current(true) != nullptr}); });
  }));
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  auto [task_ok, fiber_ok] = f.get();
  EXPECT_TRUE(task_ok);
  EXPECT_TRUE(fiber_ok);
}

// ---- (b) timer and I/O due in the same poll round ------------------------------------------------

namespace {

// What lands, besides A's own 20 ms deadline, while the blocker holds the thread.
enum class Second {
  io,               // the peer writes: the fd event and the timer are due in the same poll
  posted_cancel_fd  // a task posted from another thread calls cancel_fd: it runs in the same
                    // poll after run_timers, while slot->reader still points at A's waiter
};

// Fiber A parks on a read with a deadline ~20 ms away; a blocker fiber then holds the thread for
// 60 ms without parking while a plain thread, at ~20 ms, makes the second event happen. When the
// loop next polls, both are due. A must be resumed exactly once: a second resumption would cut
// A's next park short (the sleep after it ends early) or corrupt the ready queue (the loop's
// further sleep/wake cycles would not complete).
void resume_once_when_two_events_coincide(Second second) {
  run_in_fiber([second] {
    Reactor& reactor = *Reactor::current();
    SocketPair pair;
    ASSERT_TRUE(pair.ok());
    FdRegistration reg = reactor.add_fd(pair.fd[0]);
    auto blocker_ran = std::make_shared<std::atomic<bool>>(false);
    spawn([blocker_ran] {  // runs once A parks
      *blocker_ran = true;
      std::this_thread::sleep_for(60ms);
    });
    const int peer = pair.fd[1];
    std::thread other([peer, second, &reactor, reg] {
      std::this_thread::sleep_for(20ms);
      if (second == Second::io) {
        char c = 'x';
        (void)::write(peer, &c, 1);
      } else {
        reactor.post([&reactor, reg] { reactor.cancel_fd(reg); });  // post() is thread-safe
      }
    });
    int resumptions = 0;
    const auto t0 = Clock::now();
    const Waiter::Result r = reactor.wait_fd(reg, IoDirection::read, Deadline::after(20ms));
    ++resumptions;
    const auto resumed_at = Clock::now();
    other.join();
    EXPECT_TRUE(*blocker_ran);
    EXPECT_GE(resumed_at - t0, 55ms) << "the blocker did not hold the thread: the test proves nothing";
    if (second == Second::io) {
      EXPECT_TRUE(r == Waiter::Result::woken || r == Waiter::Result::timed_out) << static_cast<int>(r);
    } else {
      EXPECT_EQ(r, Waiter::Result::timed_out) << "timers run before posted tasks in a poll";
    }
    EXPECT_EQ(resumptions, 1);

    // A stray second resumption would end this park early.
    const auto s0 = Clock::now();
    sleep_for(100ms);
    EXPECT_GE(Clock::now() - s0, 100ms) << "the waiter was resumed a second time";
    {
      Waiter w;  // nobody else knows it: only its deadline may end it
      const auto p0 = Clock::now();
      EXPECT_EQ(w.park(Deadline::after(30ms)), Waiter::Result::timed_out);
      EXPECT_GE(Clock::now() - p0, 30ms);
    }

    // The loop keeps working: 1,000 sleep/wake cycles, each parking this fiber until a fresh
    // fiber sets its event.
    const auto c0 = Clock::now();
    int cycles = 0;
    for (; cycles < 1000; ++cycles) {
      auto ev = OneShotEvent::create();
      spawn([ev] { ev->set(); });
      if (!ev->wait(Deadline::after(1s))) break;
    }
    EXPECT_EQ(cycles, 1000);
    EXPECT_LT(ms_between(c0, Clock::now()), 1500);
    reactor.remove_fd(reg);
  });
}

}  // namespace

// Guards: one resumption when the fd event and the deadline are due in one poll (the fd wake
// unlinks the waiter's timer before run_timers).
TEST(SchedulerInvariants, TimerAndIoDueTogetherResumeTheWaiterOnce) {
  resume_once_when_two_events_coincide(Second::io);
}

// Guards: one resumption when the deadline fires and, in the same poll, a posted cancel_fd finds
// the waiter still registered as the fd's reader (Waiter::resume is a no-op once ctx_ is null).
TEST(SchedulerInvariants, TimerAndPostedCancelFdInOneRoundResumeTheWaiterOnce) {
  resume_once_when_two_events_coincide(Second::posted_cancel_fd);
}

// ---- (c) stale registration after fd reuse -------------------------------------------------------

// Guards: FdRegistration generations — after remove_fd + close, a new fd (same number, same slot)
// gets a new generation; a wait_fd / cancel_fd with the old registration returns `cancelled` at
// once and does not touch the waiter parked on the new one.
TEST(SchedulerInvariants, StaleRegistrationAfterFdReuseIsInert) {
  run_in_fiber([] {
    Reactor& reactor = *Reactor::current();
    auto first = std::make_unique<SocketPair>();
    ASSERT_TRUE(first->ok());
    const int old_fd = first->fd[0];
    FdRegistration reg1 = reactor.add_fd(first->fd[0]);
    const FdRegistration old = reg1;
    reactor.remove_fd(reg1);
    EXPECT_FALSE(reg1.valid()) << "remove_fd did not reset the registration";
    first->close_both();

    auto second = std::make_shared<SocketPair>();
    ASSERT_TRUE(second->ok());
    FdRegistration reg2 = reactor.add_fd(second->fd[0]);
    // The interesting case: same fd number and same slot, told apart only by the generation.
    EXPECT_EQ(second->fd[0], old_fd) << "fd not reused (test weaker, still valid)";
    EXPECT_EQ(reg2.index, old.index);
    EXPECT_NE(reg2.generation, old.generation);

    auto b_result = std::make_shared<std::atomic<int>>(-1);
    auto b_done = OneShotEvent::create();
    spawn([&reactor, reg2, b_result, b_done] {
      *b_result = static_cast<int>(reactor.wait_fd(reg2, IoDirection::read, Deadline::after(2s)));
      b_done->set();
    });
    sleep_for(10ms);  // B is parked on the new registration

    const auto t0 = Clock::now();
    EXPECT_EQ(reactor.wait_fd(old, IoDirection::read, Deadline::after(1s)), Waiter::Result::cancelled);
    EXPECT_EQ(reactor.wait_fd(old, IoDirection::write, Deadline::after(1s)), Waiter::Result::cancelled);
    EXPECT_LT(ms_between(t0, Clock::now()), 50) << "a wait on a stale registration parked";
    reactor.cancel_fd(old);
    FdRegistration stale_copy = old;
    reactor.remove_fd(stale_copy);  // must not remove the new fd
    sleep_for(20ms);
    EXPECT_FALSE(b_done->is_set()) << "the stale registration disturbed the new fd's waiter";

    char c = 'y';
    ASSERT_EQ(::write(second->fd[1], &c, 1), 1);
    ASSERT_TRUE(b_done->wait(Deadline::after(1s))) << "the new registration lost its event";
    EXPECT_EQ(b_result->load(), static_cast<int>(Waiter::Result::woken));
    reactor.remove_fd(reg2);
  });
}

// ---- (d) sustained load ---------------------------------------------------------------------------

// Guards: polls are not starved under load — with 50 fibers yielding non-stop (the ready queue
// never empties, suspend_until is never reached), timers (200 × sleep_for(1ms)) and cross-thread
// posts (one every ms for 300 ms) are still served by the periodic poll.
TEST(SchedulerInvariants, TimersAndPostsAreServedUnderSustainedLoad) {
  EventLoopThread loop("test");
  auto stop = std::make_shared<std::atomic<bool>>(false);
  constexpr int kYielders = 50;
  for (int i = 0; i < kYielders; ++i)
    loop.spawn_fiber([stop] {
      // Bounded by 3 s: if polls starve, the sleeps below complete only after this.
      const Deadline limit = Deadline::after(3s);
      while (!*stop && !limit.expired()) yield();
    });
  auto sleeps = std::make_shared<std::atomic<int>>(0);
  auto sleeper_done = std::make_shared<std::promise<Clock::duration>>();
  auto sleeper_f = sleeper_done->get_future();
  loop.spawn_fiber([sleeps, sleeper_done] {
    const auto t0 = Clock::now();
    for (int i = 0; i < 200; ++i) {
      sleep_for(1ms);
      ++*sleeps;
    }
    sleeper_done->set_value(Clock::now() - t0);
  });
  auto posts_ran = std::make_shared<std::atomic<int>>(0);
  int posted = 0;
  const auto p0 = Clock::now();
  while (Clock::now() - p0 < 300ms) {
    if (loop.post([posts_ran] { ++*posts_ran; })) ++posted;
    std::this_thread::sleep_for(1ms);
  }
  // Give both 1.5 s in all: far less than the yielders' 3 s bound.
  const bool sleeper_ok = sleeper_f.wait_until(p0 + 1500ms) == std::future_status::ready;
  while (posts_ran->load() < posted && Clock::now() - p0 < 1500ms) std::this_thread::sleep_for(1ms);
  const int posts_seen = posts_ran->load();
  const int sleeps_seen = sleeps->load();
  *stop = true;
  EXPECT_TRUE(sleeper_ok) << "only " << sleeps_seen << " of 200 sleeps completed under load";
  if (sleeper_ok) {
    EXPECT_LT(sleeper_f.get(), 1500ms);
  }
  EXPECT_EQ(posts_seen, posted) << "posted tasks starved under load";
  EXPECT_GT(posted, 100);
  EXPECT_TRUE(loop.stop_within(Deadline::after(4s)));
}
