// Registry: order, removal through Handle, a throwing collector, readiness, and the lifetime
// contract under concurrent renders (a removed collector never runs again, and removal waits
// for a call in progress).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "greenrpc/metrics/registry.hpp"

using greenrpc::metrics::Registry;
using greenrpc::metrics::TextWriter;
using namespace std::chrono_literals;

namespace {

Registry::Collector gauge(std::string name, double value) {
  return [name, value](TextWriter& w) {
    w.family(name, "help", "gauge");
    w.sample(name, {}, value);
  };
}

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST(Registry, RendersCollectorsInRegistrationOrder) {
  Registry r;
  auto b = r.add(gauge("b_metric", 2));
  auto a = r.add(gauge("a_metric", 1));
  const std::string text = r.render();
  ASSERT_TRUE(contains(text, "b_metric 2\n")) << text;
  ASSERT_TRUE(contains(text, "a_metric 1\n")) << text;
  EXPECT_LT(text.find("b_metric"), text.find("a_metric"));
  // The registry's own counter comes last.
  EXPECT_TRUE(contains(text, "# TYPE greenrpc_metrics_collector_failures_total counter\n"
                             "greenrpc_metrics_collector_failures_total 0\n"))
      << text;
}

TEST(Registry, HandleRemovesOnResetDestructionAndMoveAssignment) {
  Registry r;
  auto one = r.add(gauge("one", 1));
  {
    auto two = r.add(gauge("two", 2));
    EXPECT_TRUE(contains(r.render(), "two 2"));
  }
  EXPECT_FALSE(contains(r.render(), "two 2"));
  EXPECT_TRUE(contains(r.render(), "one 1"));

  Registry::Handle moved = std::move(one);
  EXPECT_FALSE(one);
  EXPECT_TRUE(moved);
  EXPECT_TRUE(contains(r.render(), "one 1"));  // moving does not remove
  moved = r.add(gauge("three", 3));              // assigning removes the old one
  const std::string text = r.render();
  EXPECT_FALSE(contains(text, "one 1"));
  EXPECT_TRUE(contains(text, "three 3"));
  moved.reset();
  moved.reset();  // idempotent
  EXPECT_FALSE(contains(r.render(), "three 3"));
}

TEST(Registry, AThrowingCollectorIsLeftOutAndCounted) {
  Registry r;
  auto good = r.add(gauge("good", 1));
  auto bad = r.add([](TextWriter& w) {
    w.family("half_written", "help", "gauge");
    w.sample("half_written", {}, 1);
    throw std::runtime_error("broken");
  });
  auto invalid = r.add([](TextWriter& w) { w.sample("bad name", {}, 1); });  // the writer throws
  auto after = r.add(gauge("after", 2));
  std::string text = r.render();
  EXPECT_TRUE(contains(text, "good 1"));
  EXPECT_TRUE(contains(text, "after 2"));
  EXPECT_FALSE(contains(text, "half_written")) << text;
  EXPECT_TRUE(contains(text, "greenrpc_metrics_collector_failures_total 2\n")) << text;
  EXPECT_EQ(r.collector_failures(), 2u);
  r.render();
  EXPECT_EQ(r.collector_failures(), 4u);
}

TEST(Registry, ReadyIsFalseWhileAnyReadyFunctionSaysSo) {
  Registry r;
  EXPECT_TRUE(r.ready());
  std::atomic<bool> a{true}, b{true};
  auto ha = r.add(gauge("a", 1), [&] { return a.load(); });
  auto hb = r.add({}, [&] { return b.load(); });  // readiness only, no collector
  auto no_ready = r.add(gauge("c", 1));
  EXPECT_TRUE(r.ready());
  b = false;
  EXPECT_FALSE(r.ready());
  b = true;
  a = false;
  EXPECT_FALSE(r.ready());
  ha.reset();
  EXPECT_TRUE(r.ready());
  auto throwing = r.add({}, []() -> bool { throw std::runtime_error("x"); });
  EXPECT_FALSE(r.ready());
  throwing.reset();
  EXPECT_TRUE(r.ready());
  EXPECT_TRUE(contains(r.render(), "c 1"));
}

TEST(Registry, RemovalWaitsForACallInProgress) {
  Registry r;
  std::atomic<bool> inside{false};
  std::atomic<bool> finished{false};
  auto h = r.add([&](TextWriter& w) {
    inside = true;
    std::this_thread::sleep_for(150ms);
    w.sample("slow", {}, 1);
    finished = true;
  });
  std::thread scraper([&] { r.render(); });
  while (!inside) std::this_thread::sleep_for(1ms);
  const auto start = std::chrono::steady_clock::now();
  h.reset();
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(finished.load()) << "reset() returned while the collector was still running";
  EXPECT_GE(waited, 50ms);
  scraper.join();
}

TEST(Registry, ACollectorMayRemoveItselfAndAddOthers) {
  Registry r;
  std::optional<Registry::Handle> self;
  Registry::Handle added;
  int calls = 0;
  self = r.add([&](TextWriter& w) {
    ++calls;
    w.sample("once", {}, 1);
    added = r.add(gauge("added_later", 5));
    self->reset();  // must not wait for itself
  });
  EXPECT_TRUE(contains(r.render(), "once 1"));
  const std::string second = r.render();
  EXPECT_FALSE(contains(second, "once 1"));
  EXPECT_TRUE(contains(second, "added_later 5"));
  EXPECT_EQ(calls, 1);
}

TEST(Registry, HandleMayOutliveItsRegistry) {
  Registry::Handle h;
  {
    Registry r;
    h = r.add(gauge("x", 1));
  }
  h.reset();  // nothing to remove from: no crash
  SUCCEED();
}

TEST(Registry, ConcurrentRendersNeverRunARemovedCollector) {
  // Owners come and go while four threads render: once an owner's Handle is gone its object is
  // dead (flagged here instead of freed, to detect the call instead of crashing).
  Registry r;
  struct Owner {
    std::atomic<bool> dead{false};
    std::atomic<int> calls{0};
  };
  std::atomic<int> calls_on_dead{0};
  std::atomic<bool> done{false};
  // Registered first, so a render's copy of the list is often taken before an owner leaves it
  // and reaches the owner's entry after: the window a removal must cover.
  auto slow = r.add([](TextWriter&) { std::this_thread::sleep_for(std::chrono::microseconds(300)); });
  std::vector<std::thread> scrapers;
  std::atomic<long> renders{0};
  for (int i = 0; i < 4; ++i) {
    scrapers.emplace_back([&] {
      while (!done) {
        const std::string text = r.render();
        if (!contains(text, "greenrpc_metrics_collector_failures_total 0")) calls_on_dead += 1000;  // none throws
        r.ready();
        ++renders;
      }
    });
  }
  std::vector<std::unique_ptr<Owner>> graveyard;
  int total_calls = 0;
  for (int round = 0; round < 300; ++round) {
    auto owner = std::make_unique<Owner>();
    Owner* o = owner.get();
    auto h = r.add(
        [o, &calls_on_dead](TextWriter& w) {
          if (o->dead) ++calls_on_dead;
          ++o->calls;
          w.family("owner_calls_total", "help", "counter");
          w.sample("owner_calls_total", {}, o->calls.load());
        },
        [o, &calls_on_dead] {
          if (o->dead) ++calls_on_dead;
          return true;
        });
    std::this_thread::sleep_for(std::chrono::microseconds(200 + (round % 7) * 100));
    h.reset();
    o->dead = true;
    total_calls += o->calls;
    graveyard.push_back(std::move(owner));
  }
  done = true;
  for (auto& t : scrapers) t.join();
  EXPECT_EQ(calls_on_dead.load(), 0);
  EXPECT_GT(renders.load(), 100);
  EXPECT_GT(total_calls, 0);
  EXPECT_FALSE(contains(r.render(), "owner_calls_total"));
}

TEST(Registry, GlobalIsOneInstance) {
  EXPECT_EQ(&Registry::global(), &Registry::global());
}
