// Cancellation and deadline propagation of the runtime: CancelToken/CancelScope, FiberDeadlineScope,
// what greenrpc::spawn inherits (and what spawn_fiber / posted tasks do not), run_blocking's
// release of its fiber, OneShotEvent and FiberGroup under cancellation, TCP waits under a token,
// the loop counting greenrpc::spawn'd fibers, and stack allocation failure.
//
// Every test names, in a comment, the behaviour it guards: removing that behaviour fails it.
// Every wait is bounded; fibers a test starts hold their state through shared_ptr, so a failed
// assertion that returns early cannot leave them on a dead stack.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "greenrpc/net/tcp_listener.hpp"
#include "greenrpc/net/tcp_stream.hpp"
#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/fiber_deadline.hpp"
#include "greenrpc/runtime/fiber_group.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"
#include "greenrpc/runtime/reactor.hpp"
#include "greenrpc/runtime/run_blocking.hpp"
#include "greenrpc/runtime/stack_pool.hpp"
#include "../support/fiber_harness.hpp"
#include "../support/process_threads.hpp"

using namespace greenrpc;
using namespace greenrpc::test;
using namespace std::chrono_literals;

namespace {

// How a fiber's wait ended.
struct Outcome {
  std::shared_ptr<OneShotEvent> done = OneShotEvent::create();
  bool returned = false;
  bool cancelled = false;
  bool deadline_exceeded = false;
  bool timed_out = false;  // a TimeoutError other than DeadlineExceededError
  Clock::time_point at{};
  Deadline seen_deadline;  // current_fiber_deadline() when the fiber started
};

// Runs `wait` and records how it ended. Only records in the catch blocks (never park there).
template <class F>
void record(Outcome& o, F&& wait) {
  try {
    wait();
    o.returned = true;
  } catch (const CancelledError&) {
    o.cancelled = true;
  } catch (const DeadlineExceededError&) {
    o.deadline_exceeded = true;
  } catch (const TimeoutError&) {
    o.timed_out = true;
  }
  o.at = Clock::now();
  o.done->set();
}

}  // namespace

// ---- 1. CancelToken / CancelScope --------------------------------------------------------------

// Guards: token->cancel() wakes a fiber parked (sleep_for) under a CancelScope with CancelledError
// at once (the token's parked list, Waiter::park linking into it).
TEST(Cancellation, CancelWakesASleepingFiberWithCancelledError) {
  run_in_fiber([] {
    auto token = CancelToken::create();
    auto out = std::make_shared<Outcome>();
    spawn([token, out] {
      CancelScope scope(token);
      record(*out, [] { sleep_for(1h); });
    });
    sleep_for(30ms);
    EXPECT_FALSE(out->done->is_set()) << "the sleeper ended before the cancel";
    const auto cancel_at = Clock::now();
    token->cancel();
    ASSERT_TRUE(out->done->wait(Deadline::after(1s))) << "cancel did not wake the sleeping fiber";
    EXPECT_TRUE(out->cancelled);
    EXPECT_LT(ms_between(cancel_at, out->at), 100);
    EXPECT_TRUE(token->cancelled());
  });
}

// Guards: a wait that starts under an already-cancelled token throws at once (the check before
// parking), check_interrupted() sees it too, and the CancelScope's end restores the previous
// (null) token so that the fiber sleeps normally again.
TEST(Cancellation, AlreadyCancelledTokenThrowsAtOnceAndTheScopeEndRestores) {
  run_in_fiber([] {
    auto token = CancelToken::create();
    token->cancel();
    {
      CancelScope scope(token);
      const auto t0 = Clock::now();
      EXPECT_THROW(sleep_for(1h), CancelledError);
      EXPECT_LT(ms_between(t0, Clock::now()), 50);
      EXPECT_THROW(check_interrupted(), CancelledError);
      auto ev = OneShotEvent::create();
      EXPECT_THROW(ev->wait(Deadline::after(1s)), CancelledError);
    }
    const auto t0 = Clock::now();
    EXPECT_NO_THROW(sleep_for(30ms));
    EXPECT_GE(Clock::now() - t0, 30ms);
    EXPECT_NO_THROW(check_interrupted());
  });
}

// Guards: scopes nest — an inner scope's token is replaced by the outer one at its end, not by
// none (CancelScope keeps `previous_`).
TEST(Cancellation, NestedCancelScopeRestoresTheOuterToken) {
  run_in_fiber([] {
    auto outer = CancelToken::create();
    auto inner = CancelToken::create();
    CancelScope outer_scope(outer);
    { CancelScope inner_scope(inner); }
    outer->cancel();
    EXPECT_THROW(sleep_for(1s), CancelledError) << "the outer token was lost when the inner scope ended";
  });
}

// ---- 2. FiberDeadlineScope ---------------------------------------------------------------------

// Guards: the fiber's inherited deadline ends a longer wait with DeadlineExceededError, not
// before it (timer rounding up), and current_fiber_deadline() reports it within the scope only.
TEST(Cancellation, FiberDeadlineEndsALongSleepWithDeadlineExceeded) {
  run_in_fiber([] {
    Outcome out;
    const auto t0 = Clock::now();
    const Deadline deadline = Deadline::after(150ms);
    {
      FiberDeadlineScope scope(deadline);
      EXPECT_EQ(current_fiber_deadline(), deadline);
      record(out, [] { sleep_for(1h); });
    }
    EXPECT_TRUE(current_fiber_deadline().is_never());
    EXPECT_TRUE(out.deadline_exceeded);
    EXPECT_GE(out.at, deadline.time_point()) << "woke before the deadline";
    EXPECT_GE(out.at - t0, 150ms);
    EXPECT_LT(ms_between(t0, out.at), 400);
  });
}

// Guards: a park whose own deadline is tighter than the inherited one times out as itself —
// sleep_for returns normally (due_inherited_ only set when the inherited deadline is the tighter).
TEST(Cancellation, TighterOwnDeadlineReturnsNormallyInsideAFiberDeadline) {
  run_in_fiber([] {
    FiberDeadlineScope scope(Deadline::after(1s));
    const auto t0 = Clock::now();
    EXPECT_NO_THROW(sleep_for(50ms));
    EXPECT_GE(Clock::now() - t0, 50ms);
    EXPECT_LT(ms_between(t0, Clock::now()), 500);
    // And an explicit timed wait reports a plain timeout, not the request's deadline.
    auto ev = OneShotEvent::create();
    EXPECT_FALSE(ev->wait(Deadline::after(20ms)));
  });
}

// Guards: FiberDeadlineScopes nest and the tighter wins (earliest()), the outer one returning.
TEST(Cancellation, NestedFiberDeadlineScopesKeepTheTighter) {
  run_in_fiber([] {
    const Deadline outer = Deadline::after(10s);
    FiberDeadlineScope outer_scope(outer);
    {
      const Deadline tight = Deadline::after(5s);
      FiberDeadlineScope inner(tight);
      EXPECT_EQ(current_fiber_deadline(), tight);
      FiberDeadlineScope looser(Deadline::after(60s));
      EXPECT_EQ(current_fiber_deadline(), tight) << "a looser inner scope widened the deadline";
    }
    EXPECT_EQ(current_fiber_deadline(), outer);
  });
}

// ---- 3. Inheritance ----------------------------------------------------------------------------

// Guards: greenrpc::spawn copies the deadline and token into the child; EventLoopThread::
// spawn_fiber (from the loop thread itself) and fibers spawned by tasks posted through
// EventLoopThread::post / Reactor::post (which run on the dispatcher, with no properties)
// inherit nothing.
TEST(Cancellation, SpawnInheritsButSpawnFiberAndPostedTasksDoNot) {
  run_on_loop([](EventLoopThread& loop) {
    auto token = CancelToken::create();
    const Deadline deadline = Deadline::after(10s);  // seen, never reached
    auto inherited = std::make_shared<Outcome>();
    auto clean = std::make_shared<Outcome>();
    auto via_loop_post = std::make_shared<Outcome>();
    auto via_reactor_post = std::make_shared<Outcome>();
    auto child = [](std::shared_ptr<Outcome> o) {
      return [o] {
        o->seen_deadline = current_fiber_deadline();
        record(*o, [] { sleep_for(300ms); });
      };
    };
    {
      CancelScope cancel_scope(token);
      FiberDeadlineScope deadline_scope(deadline);
      spawn(child(inherited));
      loop.spawn_fiber(child(clean));
      ASSERT_TRUE(loop.post([child, via_loop_post] { spawn(child(via_loop_post)); }));
      Reactor::current()->post([child, via_reactor_post] { spawn(child(via_reactor_post)); });
    }
    sleep_for(30ms);  // every child is parked in its sleep now
    token->cancel();
    for (auto* o : {&inherited, &clean, &via_loop_post, &via_reactor_post})
      ASSERT_TRUE((*o)->done->wait(Deadline::after(2s)));
    EXPECT_TRUE(inherited->cancelled) << "greenrpc::spawn did not pass the token on";
    EXPECT_EQ(inherited->seen_deadline, deadline) << "greenrpc::spawn did not pass the deadline on";
    for (auto* o : {&clean, &via_loop_post, &via_reactor_post}) {
      EXPECT_TRUE((*o)->returned) << "a fiber that should start clean was cancelled";
      EXPECT_TRUE((*o)->seen_deadline.is_never()) << "a fiber that should start clean inherited a deadline";
    }
  });
}

// Guards: the child keeps the token for its whole life, even after the parent's scope ended.
TEST(Cancellation, SpawnedFiberKeepsTheTokenAfterTheParentScopeEnds) {
  run_in_fiber([] {
    auto token = CancelToken::create();
    auto out = std::make_shared<Outcome>();
    {
      CancelScope scope(token);
      spawn([out] { record(*out, [] { sleep_for(1s); }); });
    }
    sleep_for(20ms);
    token->cancel();
    ASSERT_TRUE(out->done->wait(Deadline::after(2s)));
    EXPECT_TRUE(out->cancelled);
    EXPECT_LT(ms_between(out->at, Clock::now()), 100);
  });
}

// ---- 4. run_blocking ---------------------------------------------------------------------------

namespace {
struct JobObservations {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> abandoned_at_start{true};
  std::atomic<bool> abandoned_at_end{false};
  std::atomic<Clock::rep> deadline_seen{0};
};

// A job that blocks its pool thread for 1 s. Owns (shares) everything it touches.
auto blocking_job(std::shared_ptr<JobObservations> job) {
  return [job] {
    job->deadline_seen = current_fiber_deadline().time_point().time_since_epoch().count();
    job->abandoned_at_start = run_blocking_abandoned();
    job->started = true;
    std::this_thread::sleep_for(1s);
    job->abandoned_at_end = run_blocking_abandoned();
    job->finished = true;
  };
}

// Waits (in a fiber) until the job has finished, at most 2 s.
bool wait_for_job(const JobObservations& job) {
  const Deadline limit = Deadline::after(2s);
  while (!job.finished && !limit.expired()) sleep_for(10ms);
  return job.finished;
}
}  // namespace

// Guards: cancelling the token of a fiber waiting in run_blocking releases it at once with
// CancelledError although the pool thread is still blocked; the job then sees
// run_blocking_abandoned(); the job's later completion (dropping its result) harms nothing.
TEST(Cancellation, RunBlockingReleasesItsFiberOnCancel) {
  run_in_fiber([] {
    auto token = CancelToken::create();
    auto job = std::make_shared<JobObservations>();
    auto out = std::make_shared<Outcome>();
    spawn([token, job, out] {
      CancelScope scope(token);
      record(*out, [&] { run_blocking(blocking_job(job)); });
    });
    const Deadline started_limit = Deadline::after(1s);
    while (!job->started && !started_limit.expired()) sleep_for(5ms);
    ASSERT_TRUE(job->started);
    const auto cancel_at = Clock::now();
    token->cancel();
    ASSERT_TRUE(out->done->wait(Deadline::after(1s))) << "cancel did not release the run_blocking fiber";
    EXPECT_TRUE(out->cancelled);
    EXPECT_LT(ms_between(cancel_at, out->at), 100);
    EXPECT_FALSE(job->finished) << "the fiber waited for the blocked job";
    EXPECT_FALSE(job->abandoned_at_start);
    EXPECT_TRUE(job->deadline_seen == Deadline::never().time_point().time_since_epoch().count());
    ASSERT_TRUE(wait_for_job(*job));
    EXPECT_TRUE(job->abandoned_at_end) << "run_blocking_abandoned() stayed false after the release";
    sleep_for(20ms);  // the job's done->set() with nobody waiting: the loop must still be fine
    EXPECT_NO_THROW(sleep_for(1ms));
  });
}

// Guards: run_blocking honours the fiber's inherited deadline (DeadlineExceededError, a
// TimeoutError, at the deadline) and hands that deadline to the pool thread
// (current_fiber_deadline() in the job).
TEST(Cancellation, RunBlockingReleasesItsFiberAtTheInheritedDeadline) {
  run_in_fiber([] {
    auto job = std::make_shared<JobObservations>();
    auto out = std::make_shared<Outcome>();
    const auto t0 = Clock::now();
    const Deadline deadline = Deadline::after(150ms);
    spawn([deadline, job, out] {
      FiberDeadlineScope scope(deadline);
      record(*out, [&] { run_blocking(blocking_job(job)); });
    });
    ASSERT_TRUE(out->done->wait(Deadline::after(1s))) << "the deadline did not release the run_blocking fiber";
    EXPECT_TRUE(out->deadline_exceeded);
    EXPECT_GE(out->at, deadline.time_point());
    EXPECT_LT(ms_between(t0, out->at), 150 + 100);
    EXPECT_FALSE(job->finished);
    EXPECT_EQ(job->deadline_seen.load(), deadline.time_point().time_since_epoch().count())
        << "the job did not see the fiber's deadline";
    ASSERT_TRUE(wait_for_job(*job));
    EXPECT_FALSE(job->abandoned_at_start);
    EXPECT_TRUE(job->abandoned_at_end);
  });
}

// Guards: run_blocking's own deadline gives TimeoutError too, and a normal run returns the value.
TEST(Cancellation, RunBlockingOwnDeadlineAndValue) {
  run_in_fiber([] {
    EXPECT_EQ(run_blocking([] { return 7; }), 7);
    auto job = std::make_shared<JobObservations>();
    const auto t0 = Clock::now();
    EXPECT_THROW(run_blocking(blocking_job(job), Deadline::after(50ms)), TimeoutError);
    EXPECT_LT(ms_between(t0, Clock::now()), 300);
    ASSERT_TRUE(wait_for_job(*job));
    EXPECT_TRUE(job->abandoned_at_end);
  });
}

// Guards: BlockingPool threads end at once when the last EventLoopThread (the last Lease) is
// gone, instead of idling for 5 s.
TEST(Cancellation, BlockingPoolThreadsEndWithTheLastLoop) {
  {
    EventLoopThread loop("test");
    auto all = std::make_shared<std::promise<void>>();
    auto all_done = all->get_future();
    loop.spawn_fiber([all] {
      auto left = std::make_shared<int>(3);
      auto ev = OneShotEvent::create();
      for (int i = 0; i < 3; ++i)
        spawn([left, ev] {
          run_blocking([] { std::this_thread::sleep_for(50ms); });
          if (--*left == 0) ev->set();
        });
      ev->wait(Deadline::after(2s));
      all->set_value();
    });
    ASSERT_EQ(all_done.wait_for(3s), std::future_status::ready);
    EXPECT_GE(BlockingPool::instance().threads(), 1u);
    EXPECT_GE(threads_named("greenrpc-block"), 1);
    // The loop is alive: idle pool threads stay (they would serve its next job).
    std::this_thread::sleep_for(100ms);
    EXPECT_GE(BlockingPool::instance().threads(), 1u);
  }
  const auto t0 = Clock::now();
  while ((BlockingPool::instance().threads() > 0 || threads_named("greenrpc-block") > 0) && Clock::now() - t0 < 1s)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(BlockingPool::instance().threads(), 0u) << "pool threads outlived the last loop";
  EXPECT_EQ(threads_named("greenrpc-block"), 0);
}

// ---- 5. OneShotEvent and FiberGroup --------------------------------------------------------------

// Guards: OneShotEvent::wait in a fiber ends with CancelledError when the fiber's token is cancelled.
TEST(Cancellation, OneShotEventWaitEndsOnCancel) {
  run_in_fiber([] {
    auto token = CancelToken::create();
    auto ev = OneShotEvent::create();
    auto out = std::make_shared<Outcome>();
    spawn([token, ev, out] {
      CancelScope scope(token);
      record(*out, [&] { ev->wait(Deadline::after(3s)); });
    });
    sleep_for(30ms);
    const auto cancel_at = Clock::now();
    token->cancel();
    ASSERT_TRUE(out->done->wait(Deadline::after(1s)));
    EXPECT_TRUE(out->cancelled);
    EXPECT_LT(ms_between(cancel_at, out->at), 100);
    EXPECT_FALSE(ev->is_set());
  });
}

// Guards: a set() that happened before the cancel wins — from this thread (the waiter is already
// woken and off the token's list) and from another thread (the wake is still in flight as a
// posted task when the cancel lands: wait() re-checks set_ before throwing).
TEST(Cancellation, OneShotEventSetBeforeCancelWins) {
  run_in_fiber([] {
    for (bool cross_thread : {false, true}) {
      for (int round = 0; round < 20; ++round) {
        auto token = CancelToken::create();
        auto ev = OneShotEvent::create();
        auto result = std::make_shared<std::atomic<int>>(-1);  // 1 true, 0 false, 2 cancelled
        auto done = OneShotEvent::create();
        spawn([token, ev, result, done] {
          CancelScope scope(token);
          try {
            *result = ev->wait(Deadline::after(2s)) ? 1 : 0;
          } catch (const CancelledError&) {
            *result = 2;
          }
          done->set();
        });
        sleep_for(2ms);  // the waiter is parked
        if (cross_thread) {
          std::thread([ev] { ev->set(); }).join();  // its wake is posted, maybe not yet run
        } else {
          ev->set();
        }
        token->cancel();
        ASSERT_TRUE(done->wait(Deadline::after(2s)));
        EXPECT_EQ(result->load(), 1) << (cross_thread ? "cross-thread" : "same-thread") << " round " << round;
      }
    }
  });
}

// Guards: FiberGroup::join from a cancelled fiber throws CancelledError; ~FiberGroup still joins
// (Interrupt::ignore) under the same cancelled token; the group's fibers (clean: spawn_fiber)
// are not cancelled by the joiner's token.
TEST(Cancellation, FiberGroupJoinIsInterruptibleButItsDestructorIsNot) {
  run_on_loop([](EventLoopThread& loop) {
    auto token = CancelToken::create();
    token->cancel();
    auto finished = std::make_shared<std::atomic<bool>>(false);
    auto group = std::make_unique<FiberGroup>(loop);
    CancelScope scope(token);
    group->spawn([finished] {
      sleep_for(200ms);
      *finished = true;
    });
    bool threw = false;
    const auto t0 = Clock::now();
    try {
      group->join();
    } catch (const CancelledError&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_LT(ms_between(t0, Clock::now()), 50);
    EXPECT_FALSE(*finished);
    group.reset();  // not during unwinding (see fiber_group.hpp)
    EXPECT_TRUE(*finished) << "~FiberGroup returned before its fibers";
    EXPECT_GE(Clock::now() - t0, 150ms);
  });
}

// ---- 6. TCP wait under a token -----------------------------------------------------------------

// Guards: a TcpStream read parked on a silent peer is woken by the fiber's token with
// CancelledError, and — unlike stream->cancel() — the stream stays usable for a later read.
TEST(Cancellation, TokenEndsATcpReadButNotTheStream) {
  run_in_fiber([] {
    TcpListener listener(ListenOptions{"127.0.0.1", 0});
    std::shared_ptr<TcpStream> client = TcpStream::connect("127.0.0.1", listener.port(), Deadline::after(2s));
    std::shared_ptr<TcpStream> server = listener.accept(Deadline::after(2s));
    ASSERT_TRUE(server);
    auto token = CancelToken::create();
    auto out = std::make_shared<Outcome>();
    spawn([token, server, out] {
      CancelScope scope(token);
      char buf[8];
      record(*out, [&] { server->read_some(buf, Deadline::after(3s)); });
    });
    sleep_for(30ms);
    EXPECT_FALSE(out->done->is_set());
    const auto cancel_at = Clock::now();
    token->cancel();
    ASSERT_TRUE(out->done->wait(Deadline::after(1s)));
    EXPECT_TRUE(out->cancelled);
    EXPECT_LT(ms_between(cancel_at, out->at), 100);

    client->write_all("ping", Deadline::after(1s));
    char buf[8];
    std::size_t n = 0;
    ASSERT_NO_THROW(n = server->read_some(buf, Deadline::after(1s))) << "the token cancelled the stream itself";
    EXPECT_EQ(std::string(buf, n), "ping");
    // A read that parks again also works (and times out plainly).
    EXPECT_THROW(server->read_some(buf, Deadline::after(20ms)), TimeoutError);
    // Contrast: the stream's own cancel() ends it for good.
    server->cancel();
    client->write_all("more", Deadline::after(1s));
    EXPECT_THROW(server->read_some(buf, Deadline::after(1s)), CancelledError);
  });
}

// ---- 7. The loop counts greenrpc::spawn'd fibers -------------------------------------------------

// Guards: EventLoopThread::stop() waits for a fiber started with greenrpc::spawn (Reactor's
// live_fibers count): the loop keeps serving while it runs — a post() from it at its end is
// accepted and run (Boost's scheduler would still finish a detached fiber at thread exit, but
// with the loop already ended: posts refused) — and its side effect is visible once stop returns.
TEST(Cancellation, StopWaitsForFibersStartedWithSpawn) {
  auto loop = std::make_unique<EventLoopThread>("test");
  EventLoopThread* raw = loop.get();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto post_accepted = std::make_shared<std::atomic<bool>>(false);
  auto post_ran = std::make_shared<std::atomic<bool>>(false);
  auto spawned = std::make_shared<std::promise<void>>();
  auto spawned_f = spawned->get_future();
  loop->spawn_fiber([raw, finished, post_accepted, post_ran, spawned] {
    spawn([raw, finished, post_accepted, post_ran] {
      sleep_for(200ms);
      auto ran = OneShotEvent::create();
      *post_accepted = raw->post([ran, post_ran] {
        *post_ran = true;
        ran->set();
      });
      if (*post_accepted) ran->wait(Deadline::after(1s));
      *finished = true;
    });
    spawned->set_value();
  });
  ASSERT_EQ(spawned_f.wait_for(2s), std::future_status::ready);
  const auto t0 = Clock::now();
  ASSERT_TRUE(loop->stop_within(Deadline::after(2s)));
  EXPECT_TRUE(*finished) << "stop() returned before a greenrpc::spawn'd fiber ended";
  EXPECT_TRUE(*post_accepted) << "the loop ended while a greenrpc::spawn'd fiber still ran";
  EXPECT_TRUE(*post_ran);
  EXPECT_GE(Clock::now() - t0, 150ms);
}

// Guards: stop_within() is bounded: false while a fiber holds the thread (a blocking section
// greenrpc cannot interrupt), true once it is done.
TEST(Cancellation, StopWithinIsBoundedByItsDeadline) {
  EventLoopThread loop("test");
  auto entered = std::make_shared<std::promise<void>>();
  auto entered_f = entered->get_future();
  loop.spawn_fiber([entered] {
    entered->set_value();
    std::this_thread::sleep_for(500ms);  // stuck: no park
  });
  ASSERT_EQ(entered_f.wait_for(2s), std::future_status::ready);
  const auto t0 = Clock::now();
  EXPECT_FALSE(loop.stop_within(Deadline::after(100ms)));
  EXPECT_LT(ms_between(t0, Clock::now()), 300) << "stop_within overran its deadline";
  EXPECT_TRUE(loop.stop_within(Deadline::after(2s)));
  EXPECT_GE(Clock::now() - t0, 350ms);
  EXPECT_FALSE(loop.post([] {})) << "post accepted after the loop ended";
}

// ---- 8. Stack allocation failure -----------------------------------------------------------------

namespace {
struct ResetInjection {
  ~ResetInjection() { GuardedStackPool::fail_next_allocations_for_testing(0); }
};
}  // namespace

// Guards: when no stack can be had, greenrpc::spawn (and spawn_fiber on the loop thread) throws
// std::bad_alloc and leaves nothing behind: live_fibers() is unchanged, so the loop still stops
// at once. 200 KiB is a size no other fiber uses: no cached stack can mask the failure.
TEST(Cancellation, StackAllocationFailureLeavesNothingBehind) {
  constexpr std::size_t kOddStack = 200 * 1024;
  auto loop = std::make_unique<EventLoopThread>("test");
  auto done = std::make_shared<std::promise<void>>();
  auto done_f = done->get_future();
  EventLoopThread* raw = loop.get();
  loop->spawn_fiber([done, raw] {
    ResetInjection reset;
    Reactor& reactor = *Reactor::current();
    const std::size_t before = reactor.live_fibers();
    auto ran = std::make_shared<bool>(false);
    GuardedStackPool::fail_next_allocations_for_testing(1'000'000);
    EXPECT_THROW(spawn([ran] { *ran = true; }, kOddStack), std::bad_alloc);
    EXPECT_EQ(reactor.live_fibers(), before) << "a failed spawn stayed counted";
    EXPECT_THROW(raw->spawn_fiber([ran] { *ran = true; }, kOddStack), std::bad_alloc);
    EXPECT_EQ(reactor.live_fibers(), before);
    GuardedStackPool::fail_next_allocations_for_testing(0);
    // With the injection off the same size works (and is counted while it runs).
    auto ok = OneShotEvent::create();
    spawn([ok] { ok->set(); }, kOddStack);
    EXPECT_EQ(reactor.live_fibers(), before + 1);
    EXPECT_TRUE(ok->wait(Deadline::after(1s)));
    sleep_for(5ms);
    EXPECT_EQ(reactor.live_fibers(), before);
    EXPECT_FALSE(*ran);
    done->set_value();
  });
  ASSERT_EQ(done_f.wait_for(3s), std::future_status::ready);
  const auto t0 = Clock::now();
  const bool stopped = loop->stop_within(Deadline::after(1s));
  EXPECT_TRUE(stopped) << "the loop waits for a fiber that never started";
  EXPECT_LT(ms_between(t0, Clock::now()), 500);
  if (!stopped) {
    loop->abandon();
    (void)loop.release();
  }
}
