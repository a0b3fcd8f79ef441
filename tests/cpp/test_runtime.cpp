#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "goldensignals/agents/builtin.hpp"
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
  EXPECT_EQ(sink->decisions[0]->trigger, Trigger::Move);
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
  EXPECT_EQ(sink->decisions[0]->trigger, Trigger::Interval);
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
    EXPECT_EQ(d->trigger, Trigger::Initial);
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

// Synchronous runtimes (backtests): the caller's thread runs the feed and every analysis.
namespace gs {
namespace {

// A zig-zag around a drift, so the built-in agents disagree and change their minds.
std::vector<Bar> wavy_bars(std::size_t n) {
  std::vector<Bar> out;
  double c = 100.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(i);
    const double next = c * (1.0 + 0.012 * std::sin(x * 0.37) + 0.004 * std::cos(x * 1.9));
    const double hi = std::max(c, next) * 1.003, lo = std::min(c, next) * 0.997;
    out.push_back(Bar{1'700'000'000'000LL + static_cast<std::int64_t>(i) * 86'400'000, c, hi, lo,
                      next, 1e6 + 1e4 * static_cast<double>(i % 17)});
    c = next;
  }
  return out;
}

// Records the thread it ran on, optionally after a pause.
class ThreadAgent final : public Agent {
 public:
  ThreadAgent(std::string name, std::chrono::milliseconds pause, std::chrono::milliseconds timeout)
      : Agent(AgentSpec{std::move(name), 1.0, timeout, AgentKind::Native}), pause_(pause) {}
  std::optional<Vote> analyze(const AgentContext&) const override {
    {
      std::lock_guard lk(mu);
      threads.push_back(std::this_thread::get_id());
    }
    if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
    return Vote{Action::Buy, 0.8, {"on my thread"}, std::nullopt, std::nullopt};
  }
  mutable std::mutex mu;
  mutable std::vector<std::thread::id> threads;

 private:
  std::chrono::milliseconds pause_;
};

RuntimeOptions replay_options(bool synchronous) {
  RuntimeOptions o;
  o.symbols = {"AAPL", "NVDA"};
  o.signal_generation_interval_s = 86'400.0 * 3;  // every third daily bar, and on 1% moves
  o.analyze_on_start = false;
  o.synchronous = synchronous;
  return o;
}

ReplayFeedOptions two_symbols(std::size_t n) {
  ReplayFeedOptions ro;
  ro.bars["AAPL"] = wavy_bars(n);
  ro.bars["NVDA"] = wavy_bars(n + 7);
  ro.bars["NVDA"].erase(ro.bars["NVDA"].begin(), ro.bars["NVDA"].begin() + 7);  // other prices
  return ro;
}

// What a decision says, apart from ids and wall-clock times.
std::string describe(const Decision& d) {
  std::string s = d.symbol + " " + std::to_string(d.market_ts_ms) + " " + std::string(to_string(d.trigger)) + " " +
                  (d.consensus.action ? std::string(to_string(*d.consensus.action)) : "none") +
                  " " + std::to_string(d.consensus.confidence);
  for (const auto& b : d.ballots) {
    s += " " + b.agent + ":" + (b.vote ? std::string(to_string(b.vote->action)) : "-");
  }
  return s;
}

std::vector<std::string> replay_decisions(bool synchronous, std::size_t bars) {
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(replay_options(synchronous), sink);
  for (auto& a : make_builtin_agents()) rt.orchestrator().add_agent(a);
  rt.set_feed(make_replay_feed(two_symbols(bars)));
  rt.start();
  if (synchronous) {
    EXPECT_TRUE(rt.run_feed({}));
  } else {
    EXPECT_TRUE(rt.wait_feed(60s));
  }
  rt.stop();
  std::lock_guard lk(sink->mu);
  std::vector<std::string> out;
  for (const auto& d : sink->decisions) out.push_back(describe(*d));
  return out;
}

TEST(SynchronousRuntime, DecidesExactlyAsTheThreadedReplay) {
  const auto threaded = replay_decisions(false, 300);
  const auto synchronous = replay_decisions(true, 300);
  ASSERT_GT(threaded.size(), 150u);  // about one bar in three per symbol, more on moves
  EXPECT_EQ(synchronous, threaded);
  std::size_t signals = 0;
  for (const auto& d : synchronous) signals += d.find(" none ") == std::string::npos;
  EXPECT_GT(signals, 10u);  // the comparison covers signals, not only abstentions
}

TEST(SynchronousRuntime, RunsTheFeedAndEveryAgentOnTheCallersThread) {
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(replay_options(true), sink);
  auto agent = std::make_shared<ThreadAgent>("T", 0ms, 1000ms);
  rt.orchestrator().add_agent(agent);
  rt.set_feed(make_replay_feed(two_symbols(60)));
  rt.start();
  EXPECT_EQ(rt.bars_ingested(), 0u);  // start() only binds the feed
  std::uint64_t last_progress = 0;
  EXPECT_TRUE(rt.run_feed([&](std::uint64_t bars) {
    last_progress = bars;
    return true;
  }));
  EXPECT_EQ(rt.bars_ingested(), 120u);
  EXPECT_TRUE(rt.wait_feed(0ms));  // the feed is done
  {
    std::lock_guard lk(agent->mu);
    ASSERT_FALSE(agent->threads.empty());
    for (auto id : agent->threads) EXPECT_EQ(id, std::this_thread::get_id());
  }
  std::lock_guard lk(sink->mu);
  EXPECT_EQ(sink->decisions.size(), agent->threads.size());  // every analysis ended in order
  EXPECT_LE(last_progress, 120u);
}

// A driven orchestrator over a fixed snapshot of AAPL.
struct Driven {
  static OrchestratorOptions driven() {
    OrchestratorOptions o;
    o.driven = true;
    return o;
  }
  static SnapshotPtr aapl() {
    auto s = std::make_shared<MarketSnapshot>();
    s->symbol = "AAPL";
    s->price = 100;
    return s;
  }
  SnapshotPtr snap = aapl();
  Orchestrator orch{driven(), ConsensusPolicy{}, [this](const std::string&) { return snap; },
                    std::make_shared<test::RecordingSink>()};
};

TEST(SynchronousRuntime, ALateAnswerCountsAsATimeoutButIsWaitedFor) {
  Driven dr;
  auto& orch = dr.orch;
  orch.add_agent(std::make_shared<ThreadAgent>("Slow", 30ms, 5ms));
  orch.add_agent(std::make_shared<test::ScriptedAgent>("Fast", Action::Sell, 0.9));
  auto fut = orch.request("AAPL", Trigger::Manual);
  ASSERT_EQ(fut.wait_for(0s), std::future_status::ready);  // request() ran it to its end
  const auto d = fut.get();
  ASSERT_EQ(d->ballots.size(), 2u);
  EXPECT_EQ(d->ballots[0].status, AgentStatus::Timeout);
  EXPECT_NE(d->ballots[0].error.find("after its deadline of 5 ms"), std::string::npos);
  EXPECT_EQ(d->ballots[1].status, AgentStatus::Ok);
  orch.stop();
}

TEST(SynchronousRuntime, WaitsForAnAnswerFromAnotherThread) {
  Driven dr;
  auto& orch = dr.orch;
  auto gated = std::make_shared<test::GatedAgent>("Remote", 10'000ms);
  orch.add_agent(gated);
  std::jthread releaser([&] {
    std::this_thread::sleep_for(20ms);
    gated->release();
  });
  const auto d = orch.request("AAPL", Trigger::Manual).get();
  ASSERT_EQ(d->ballots.size(), 1u);
  EXPECT_EQ(d->ballots[0].status, AgentStatus::Ok);
  EXPECT_EQ(d->ballots[0].vote->action, Action::Sell);
  orch.stop();
}

TEST(SynchronousRuntime, ProgressOrStopEndsTheRunEarly) {
  {
    auto sink = std::make_shared<test::RecordingSink>();
    Runtime rt(replay_options(true), sink);
    rt.set_feed(make_replay_feed(two_symbols(2'000)));
    rt.start();
    int calls = 0;
    auto progress = [&](std::uint64_t) { return ++calls < 2; };
    // Progress is asked every 256 bars, at most every 0.1 s: slow the bars down a little.
    rt.orchestrator().add_agent(std::make_shared<ThreadAgent>("T", 1ms, 1000ms));
    EXPECT_FALSE(rt.run_feed(progress));
    EXPECT_EQ(calls, 2);
    EXPECT_LT(rt.bars_ingested(), 4'000u);
    EXPECT_FALSE(rt.wait_feed(0ms));  // not done: it was stopped
    rt.stop();
  }
  {
    auto sink = std::make_shared<test::RecordingSink>();
    Runtime rt(replay_options(true), sink);
    rt.orchestrator().add_agent(std::make_shared<ThreadAgent>("T", 1ms, 1000ms));
    rt.set_feed(make_replay_feed(two_symbols(5'000)));
    rt.start();
    std::jthread stopper([&] {
      std::this_thread::sleep_for(100ms);
      rt.stop();
    });
    EXPECT_FALSE(rt.run_feed({}));
    stopper.join();
    EXPECT_LT(rt.bars_ingested(), 10'000u);
    EXPECT_EQ(rt.state(), RuntimeState::Stopped);
  }
}

TEST(SynchronousRuntime, RunFeedErrorsNameTheProblem) {
  auto sink = std::make_shared<test::RecordingSink>();
  {
    Runtime threaded(replay_options(false), sink);
    threaded.set_feed(make_replay_feed(two_symbols(5)));
    threaded.start();
    EXPECT_THROW(
        {
          try {
            threaded.run_feed({});
          } catch (const StateError& e) {
            EXPECT_NE(std::string(e.what()).find("not synchronous"), std::string::npos);
            throw;
          }
        },
        StateError);
  }
  Runtime rt(replay_options(true), sink);
  rt.set_feed(make_replay_feed(two_symbols(5)));
  EXPECT_THROW(rt.run_feed({}), StateError);  // not started
  rt.start();
  EXPECT_TRUE(rt.run_feed({}));
  EXPECT_THROW(rt.run_feed({}), StateError);  // a feed runs once
  rt.stop();
  EXPECT_THROW(rt.run_feed({}), StateError);
}

}  // namespace
}  // namespace gs
