#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

namespace gs {
namespace {

RuntimeOptions options() {
  RuntimeOptions o;
  o.symbols = {"aapl", "NVDA", "AAPL"};
  o.signal_generation_interval_s = 3600;
  o.analyze_on_start = false;
  return o;
}

TEST(Runtime, NormalizesSymbolsAndRejectsUnknownOnes) {
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(options(), sink);
  EXPECT_EQ(rt.symbols(), (std::vector<std::string>{"AAPL", "NVDA"}));
  rt.start();
  try {
    rt.publish_tick("MSFT", 10, 1, 1000);
    FAIL();
  } catch (const UnknownSymbol& e) {
    EXPECT_NE(std::string(e.what()).find("MSFT"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("AAPL, NVDA"), std::string::npos);
  }
  EXPECT_THROW(rt.publish_tick("aapl", -1, 1, 1000), BadMarketData);
  rt.publish_tick("aapl", 100, 1, 1000);  // case-insensitive
  EXPECT_DOUBLE_EQ(rt.snapshot("AAPL")->price, 100);
}

TEST(Runtime, AOnePercentMoveTriggersOneAnalysisAndPriceUpdatesFlow) {
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(options(), sink);
  for (const char* n : {"A", "B", "C"}) {
    rt.orchestrator().add_agent(std::make_shared<test::ScriptedAgent>(n, Action::Buy, 0.9));
  }
  rt.start();
  std::int64_t t = 1'700'000'000'000;
  rt.publish_tick("AAPL", 100.0, 1, t);
  rt.publish_tick("AAPL", 100.5, 1, t + 1);  // +0.5%: nothing
  rt.wait_idle("AAPL");
  EXPECT_EQ(rt.orchestrator().counters().analyses_started, 0u);
  rt.publish_tick("AAPL", 101.0, 1, t + 2);  // +1.0% since the reference: analyse
  ASSERT_TRUE(sink->wait_decisions(1));
  rt.wait_idle("AAPL");
  EXPECT_EQ(rt.orchestrator().counters().analyses_started, 1u);
  rt.publish_tick("AAPL", 101.5, 1, t + 3);  // +0.5% from the new reference: nothing
  rt.wait_idle("AAPL");
  EXPECT_EQ(rt.orchestrator().counters().analyses_started, 1u);
  std::lock_guard lk(sink->mu);
  EXPECT_EQ(sink->decisions[0]->trigger, "move");
  EXPECT_EQ(sink->prices.size(), 4u);
  EXPECT_NEAR(sink->prices[1].change_percent, 0.5, 1e-9);
}

TEST(Runtime, IntervalTriggerUsesMarketTime) {
  auto o = options();
  o.signal_generation_interval_s = 30;
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(o, sink);
  rt.orchestrator().add_agent(std::make_shared<test::ScriptedAgent>("A", Action::Hold, 0.9));
  rt.start();
  rt.publish_tick("NVDA", 50.0, 1, 1'000'000);
  rt.publish_tick("NVDA", 50.0, 1, 1'029'999);
  rt.wait_idle("NVDA");
  EXPECT_EQ(rt.orchestrator().counters().analyses_started, 0u);
  rt.publish_tick("NVDA", 50.0, 1, 1'030'000);
  ASSERT_TRUE(sink->wait_decisions(1));
  std::lock_guard lk(sink->mu);
  EXPECT_EQ(sink->decisions[0]->trigger, "interval");
}

TEST(Runtime, ReplayAsFastAsPossibleAnalysesEveryTriggeredBar) {
  auto o = options();
  o.signal_generation_interval_s = 30;  // daily bars: every bar after the first is due
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(o, sink);
  for (const char* n : {"A", "B", "C"}) {
    rt.orchestrator().add_agent(std::make_shared<test::ScriptedAgent>(n, Action::Buy, 0.9));
  }
  ReplayFeedOptions ro;
  ro.bars["AAPL"] = test::rising_bars(40);
  rt.set_feed(make_replay_feed(ro));
  rt.start();
  ASSERT_TRUE(sink->wait_decisions(39));
  rt.stop();
  std::lock_guard lk(sink->mu);
  EXPECT_EQ(sink->decisions.size(), 39u);  // one per bar after the first, none coalesced away
  EXPECT_EQ(rt.orchestrator().counters().coalesced, 0u);
}

TEST(Runtime, LifecycleErrorsAreClear) {
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(options(), sink);
  EXPECT_THROW(rt.analyze("AAPL"), StateError);
  rt.start();
  EXPECT_THROW(rt.start(), StateError);
  EXPECT_THROW(rt.set_feed(nullptr), StateError);
  rt.stop();
  rt.stop();  // idempotent
  EXPECT_EQ(rt.state(), RuntimeState::Stopped);
}

TEST(Runtime, RejectsBadOptions) {
  auto sink = std::make_shared<test::RecordingSink>();
  auto o = options();
  o.move_threshold = 0;
  EXPECT_THROW(Runtime(o, sink), InvalidArgument);
  o = options();
  o.symbols = {"bad symbol"};
  EXPECT_THROW(Runtime(o, sink), InvalidArgument);
}

}  // namespace
}  // namespace gs

namespace gs {
namespace {

TEST(Runtime, InitialAnalysisFollowsTheBackfillWithoutWaitingForLiveData) {
  auto o = options();
  o.analyze_on_start = true;
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(o, sink);
  for (const char* n : {"A", "B", "C"}) {
    rt.orchestrator().add_agent(std::make_shared<test::ScriptedAgent>(n, Action::Sell, 0.9));
  }
  SimulatedFeedOptions so;
  so.interval_s = 30;  // the first live bar is 30 s away
  so.backfill = 60;
  rt.set_feed(make_simulated_feed(so));
  rt.start();
  ASSERT_TRUE(sink->wait_decisions(2));
  std::lock_guard lk(sink->mu);
  EXPECT_TRUE(sink->prices.empty());  // no live bar yet
  for (const auto& d : sink->decisions) {
    EXPECT_EQ(d->trigger, "initial");
    EXPECT_EQ(d->consensus.action_name(), "SELL");
  }
}

}  // namespace
}  // namespace gs

namespace gs {
namespace {

// start() returns once the back-fill is in: what a notebook reads right after start() (a
// snapshot, the indicators, the status) is the whole history, never a partial one.
TEST(Runtime, StartReturnsOnceTheBackfillIsIn) {
  auto o = options();
  o.history_bars = 5000;
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(o, sink);
  SimulatedFeedOptions so;
  so.interval_s = 30;  // no live bar during the test
  so.backfill = 4000;
  rt.set_feed(make_simulated_feed(so));
  rt.start();
  for (const char* s : {"AAPL", "NVDA"}) {
    auto snap = rt.snapshot(s);
    ASSERT_NE(snap, nullptr) << s;
    EXPECT_EQ(snap->size(), 4000u) << s;
    EXPECT_EQ(snap->bars_seen, 4000u) << s;
    EXPECT_TRUE(std::isfinite(snap->indicators.rsi_14)) << s;
  }
  rt.stop();
}

// A stop() from another thread while start() waits for a long back-fill ends the wait.
TEST(Runtime, StopEndsAStartStillWaitingForTheBackfill) {
  auto o = options();
  o.history_bars = 100;
  o.symbols.clear();
  for (int i = 0; i < 200; ++i) o.symbols.push_back("S" + std::to_string(i));
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(o, sink);
  SimulatedFeedOptions so;
  so.interval_s = 30;
  so.backfill = 100000;  // 20 million bars: far longer than the test
  rt.set_feed(make_simulated_feed(so));
  std::thread stopper([&] {
    while (rt.state() != RuntimeState::Running) std::this_thread::yield();
    std::this_thread::sleep_for(50ms);
    rt.stop();
  });
  rt.start();
  stopper.join();
  EXPECT_EQ(rt.state(), RuntimeState::Stopped);
  EXPECT_LT(rt.snapshot("S0")->bars_seen, 100000u);
}

// A feed without history (a replay) does not hold start() up until it ends.
TEST(Runtime, StartDoesNotWaitForAReplay) {
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(options(), sink);
  ReplayFeedOptions ro;
  ro.speed = 1.0;  // real time: the second bar is an hour away
  ro.bars["AAPL"] = {Bar{0, 10, 11, 9, 10.5, 100}, Bar{3'600'000, 10, 11, 9, 10.5, 100}};
  rt.set_feed(make_replay_feed(ro));
  rt.start();
  EXPECT_EQ(rt.state(), RuntimeState::Running);
  rt.stop();
}

}  // namespace
}  // namespace gs
