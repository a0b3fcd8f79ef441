// The scoring convention: entry at the next bar's open, horizon exits, levels, costs, and the
// track record per source.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/evaluation/scorer.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "test_support.hpp"

namespace gs {
namespace {

constexpr std::int64_t kDay = 86'400'000;

Bar bar(int day, double o, double h, double l, double c) {
  return Bar{day * kDay, o, h, l, c, 1000.0};
}

Ballot ok(const std::string& agent, Action a, double conf, std::optional<double> target = {},
          std::optional<double> stop = {}) {
  Ballot b;
  b.agent = agent;
  b.status = AgentStatus::Ok;
  b.vote = Vote{a, conf, {}, target, stop};
  return b;
}

// A decision made on `day`'s close at `price`; with `signal`, the consensus says it.
Decision decision(int day, double price, std::vector<Ballot> ballots,
                  std::optional<Action> signal = {}, double confidence = 0.8,
                  std::optional<double> target = {}, std::optional<double> stop = {}) {
  Decision d;
  d.symbol = "AAA";
  d.analysis_id = "a" + std::to_string(day);
  d.price = price;
  d.market_ts_ms = day * kDay;
  d.ballots = std::move(ballots);
  d.consensus.action = signal;
  d.consensus.confidence = confidence;
  d.consensus.target_price = target;
  d.consensus.stop_loss = stop;
  if (signal) d.signal_id = "s" + std::to_string(day);
  return d;
}

ScoringOptions opts(int horizon, double cost = 0.0) {
  ScoringOptions o;
  o.horizon_bars = horizon;
  o.cost_bps = cost;
  o.keep = 1000;
  return o;
}

// Kept forecasts come out in the order they were scored, the listener hears only the
// consensus's when asked to, and a listener that throws loses nothing that was kept.
TEST(Scorer, KeepsInScoringOrderAndTheListenerHearsTheConsensusOnly) {
  Scorer s(opts(1));
  std::vector<std::string> heard;
  s.set_listener(
      [&](const ScoredForecast& f) {
        heard.push_back(f.signal_id);
        if (f.signal_id == "s3") throw std::runtime_error("listener down");
      },
      /*consensus_only=*/true);
  s.on_bar("AAA", bar(0, 100, 101, 99, 100));
  for (int day = 1; day <= 4; ++day) {
    s.on_decision(decision(day - 1, 100, {ok("A", Action::Buy, 0.7), ok("B", Action::Sell, 0.6)},
                           Action::Buy));
    if (day == 4) {
      EXPECT_THROW(s.on_bar("AAA", bar(day, 100, 101, 99, 100.5)), std::runtime_error);
    } else {
      s.on_bar("AAA", bar(day, 100, 101, 99, 100.5));
    }
  }
  EXPECT_EQ(heard, (std::vector<std::string>{"s0", "s1", "s2", "s3"}));
  const auto kept = s.take_scored();
  ASSERT_EQ(kept.size(), 12u);  // every day's consensus, A and B, the thrown day's included
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i].decided_ts_ms, static_cast<std::int64_t>(i / 3) * kDay) << i;
    EXPECT_EQ(kept[i].source, (std::vector<std::string>{"consensus", "A", "B"}[i % 3])) << i;
  }
}

TEST(Scorer, EntersAtTheNextOpenAndExitsAtTheCloseAfterTheHorizon) {
  Scorer s(opts(2, 10.0));
  s.on_bar("AAA", bar(0, 99, 101, 98, 100));
  s.on_decision(decision(0, 100, {ok("A", Action::Buy, 0.7)}, Action::Buy));
  s.on_bar("AAA", bar(1, 102, 103, 101, 102.5));
  EXPECT_TRUE(s.take_scored().empty());
  s.on_bar("AAA", bar(2, 103, 105, 102, 104.04));
  auto out = s.take_scored();
  ASSERT_EQ(out.size(), 2u);  // the consensus and agent A
  for (const auto& f : out) {
    EXPECT_EQ(f.entry_ts_ms, 1 * kDay);
    EXPECT_DOUBLE_EQ(f.entry_price, 102.0);
    EXPECT_EQ(f.exit_ts_ms, 2 * kDay);
    EXPECT_DOUBLE_EQ(f.exit_price, 104.04);
    EXPECT_EQ(f.exit_reason, ExitReason::Horizon);
    EXPECT_EQ(f.bars_held, 2);
    EXPECT_NEAR(f.forward_return, 0.02, 1e-12);
    EXPECT_NEAR(f.trade_return, 0.02, 1e-12);
    EXPECT_NEAR(f.net_return, 0.02 - 0.002, 1e-12);  // 10 bp on each side
    EXPECT_TRUE(f.hit);
  }
  EXPECT_TRUE(out[0].consensus || out[1].consensus);
}

TEST(Scorer, StopAndTargetInOneBarCountTheStop) {
  Scorer s(opts(5));
  s.on_decision(decision(0, 100, {ok("A", Action::Buy, 0.9, 104.0, 98.0)}));
  s.on_bar("AAA", bar(1, 100, 101, 99.5, 100.5));
  s.on_bar("AAA", bar(2, 100.5, 105, 97, 103));  // both levels inside this bar
  for (int d = 3; d <= 5; ++d) s.on_bar("AAA", bar(d, 103, 104, 102, 103.5));
  auto out = s.take_scored();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].exit_reason, ExitReason::Stop);
  EXPECT_DOUBLE_EQ(out[0].exit_price, 98.0);
  EXPECT_EQ(out[0].exit_ts_ms, 2 * kDay);
  EXPECT_EQ(out[0].bars_held, 2);
  EXPECT_NEAR(out[0].trade_return, -0.02, 1e-12);
  // Direction is judged over the whole horizon, whatever the levels did.
  EXPECT_NEAR(out[0].forward_return, 0.035, 1e-12);
  EXPECT_TRUE(out[0].hit);
}

TEST(Scorer, AGapThroughALevelFillsAtTheOpen) {
  Scorer s(opts(3));
  s.on_decision(decision(
      0, 100, {ok("A", Action::Buy, 0.9, 110.0, 97.0), ok("B", Action::Sell, 0.9, 90.0, 103.0)}));
  s.on_bar("AAA", bar(1, 100, 101, 99, 100));
  s.on_bar("AAA", bar(2, 95, 96, 94, 95));  // opens below A's stop and below nothing of B's
  s.on_bar("AAA", bar(3, 88, 89, 87, 88));  // opens below B's target
  auto out = s.take_scored();
  ASSERT_EQ(out.size(), 2u);
  const auto& a = out[0].source == "A" ? out[0] : out[1];
  const auto& b = out[0].source == "B" ? out[0] : out[1];
  EXPECT_EQ(a.exit_reason, ExitReason::Stop);
  EXPECT_DOUBLE_EQ(a.exit_price, 95.0);  // not 97: nobody could sell there
  EXPECT_EQ(b.exit_reason, ExitReason::Target);
  EXPECT_DOUBLE_EQ(b.exit_price, 88.0);  // better than the target: the open
  EXPECT_NEAR(b.trade_return, 0.12, 1e-12);
  EXPECT_TRUE(b.hit);
  EXPECT_FALSE(a.hit);
}

TEST(Scorer, WithoutLevelsEveryTradeRunsToTheHorizon) {
  auto o = opts(2);
  o.use_levels = false;
  Scorer s(o);
  s.on_decision(decision(0, 100, {ok("A", Action::Buy, 0.9, 101.0, 99.0)}));
  s.on_bar("AAA", bar(1, 100, 110, 90, 100));
  s.on_bar("AAA", bar(2, 100, 100, 96, 97));
  auto out = s.take_scored();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].exit_reason, ExitReason::Horizon);
  EXPECT_NEAR(out[0].trade_return, -0.03, 1e-12);
}

TEST(Scorer, ADecisionDeliveredAfterTheNextBarStillEntersAtThatBar) {
  Scorer s(opts(1));
  s.on_bar("AAA", bar(0, 99, 101, 98, 100));
  s.on_bar("AAA", bar(1, 101, 102, 100, 101.5));  // arrived before the day-0 decision
  s.on_decision(decision(0, 100, {ok("A", Action::Sell, 0.6)}));
  auto out = s.take_scored();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].entry_price, 101.0);
  EXPECT_NEAR(out[0].forward_return, 0.5 / 101.0, 1e-12);
  EXPECT_FALSE(out[0].hit);
  EXPECT_NEAR(out[0].trade_return, -0.5 / 101.0, 1e-12);
}

TEST(Scorer, EntryDelayWaitsThatManyBars) {
  auto o = opts(1);
  o.entry_delay_bars = 2;
  Scorer s(o);
  s.on_decision(decision(0, 100, {ok("A", Action::Buy, 0.6)}));
  for (int d = 1; d <= 4; ++d) s.on_bar("AAA", bar(d, 100 + d, 101 + d, 99 + d, 100.5 + d));
  auto out = s.take_scored();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].entry_ts_ms, 3 * kDay);
  EXPECT_DOUBLE_EQ(out[0].entry_price, 103.0);
}

TEST(Scorer, TrackRecordCountsAnalysesForecastsHitsAndBrier) {
  Scorer s(opts(1));
  Ballot hold = ok("H", Action::Hold, 0.9);
  Ballot off;
  off.agent = "D";
  off.status = AgentStatus::Disabled;
  Ballot late;
  late.agent = "T";
  late.status = AgentStatus::Timeout;
  // Day 0: A BUY 0.8 (right), day 1: A BUY 0.6 (wrong); H always HOLD; D disabled.
  s.on_decision(decision(0, 100, {ok("A", Action::Buy, 0.8), hold, off, late}, Action::Buy, 0.7));
  s.on_bar("AAA", bar(1, 100, 102, 99, 101));
  s.on_decision(decision(1, 101, {ok("A", Action::Buy, 0.6), hold, off, late}));
  s.on_bar("AAA", bar(2, 101, 101, 99, 100));
  const auto scores = s.scores();
  const SourceScore* a = nullptr;
  const SourceScore* c = nullptr;
  const SourceScore* h = nullptr;
  for (const auto& x : scores) {
    if (x.name == "A") a = &x;
    if (x.name == "H") h = &x;
    if (x.consensus) c = &x;
    EXPECT_NE(x.name, "D");  // a disabled agent took part in nothing
  }
  ASSERT_TRUE(a && c && h);
  EXPECT_EQ(a->analyses, 2u);
  EXPECT_EQ(a->forecasts, 2u);
  EXPECT_EQ(a->scored, 2u);
  EXPECT_EQ(a->hits, 1u);
  EXPECT_NEAR(a->brier_sum, 0.2 * 0.2 + 0.6 * 0.6, 1e-12);
  EXPECT_NEAR(a->recent_hit_rate, 0.5, 1e-12);
  EXPECT_EQ(h->analyses, 2u);
  EXPECT_EQ(h->forecasts, 0u);  // HOLD is not a forecast of direction
  EXPECT_EQ(c->analyses, 2u);
  EXPECT_EQ(c->forecasts, 1u);
  EXPECT_EQ(c->hits, 1u);
  // The consensus's row carries every agent's part in its analysis.
  auto kept = s.take_scored();
  auto it = std::find_if(kept.begin(), kept.end(), [](const auto& f) { return f.consensus; });
  ASSERT_NE(it, kept.end());
  ASSERT_EQ(it->ballots.size(), 4u);
  EXPECT_EQ(it->ballots[0].vote, "BUY");
  EXPECT_EQ(it->ballots[1].vote, "HOLD");
  EXPECT_EQ(it->ballots[2].vote, "DISABLED");
  EXPECT_EQ(it->ballots[3].vote, "TIMEOUT");
}

TEST(Scorer, BoundsOpenForecastsAndKeptRows) {
  auto o = opts(3);
  o.max_open = 2;
  o.keep = 1;
  Scorer s(o);
  s.on_decision(decision(
      0, 100, {ok("A", Action::Buy, 0.8), ok("B", Action::Buy, 0.8), ok("C", Action::Buy, 0.8)}));
  EXPECT_EQ(s.dropped(), 1u);
  for (int d = 1; d <= 3; ++d) s.on_bar("AAA", bar(d, 100, 101, 99, 100.5));
  EXPECT_EQ(s.take_scored().size(), 1u);
  EXPECT_EQ(s.not_kept(), 1u);
}

TEST(Scorer, AnalysesBeforeTheCountStartAreNotCountedButStillScored) {
  auto o = opts(1);
  o.analyses_from_ms = 2 * kDay;  // a backtest's warm-up ends on day 2
  Scorer s(o);
  for (int d = 0; d < 4; ++d) {
    s.on_bar("AAA", bar(d, 100, 101, 99, 100.5));
    s.on_decision(decision(d, 100.5, {ok("A", Action::Buy, 0.7)}));
  }
  s.on_bar("AAA", bar(4, 100, 101, 99, 100.5));
  const auto scores = s.scores();
  const auto a =
      std::find_if(scores.begin(), scores.end(), [](const auto& x) { return x.name == "A"; });
  ASSERT_NE(a, scores.end());
  EXPECT_EQ(a->analyses, 2u);  // days 2 and 3
  EXPECT_EQ(a->scored, 4u);    // every forecast, warm-up included (calibration learns from them)
}

TEST(Scorer, AnOlderBarThanTheLastIsIgnored) {
  Scorer s(opts(1));
  s.on_bar("AAA", bar(0, 99, 101, 98, 100));
  s.on_decision(decision(0, 100, {ok("A", Action::Buy, 0.7)}));
  s.on_bar("AAA", bar(2, 110, 111, 109, 110.5));
  s.on_bar("AAA", bar(1, 50, 51, 49, 50));  // late, from another publisher
  auto out = s.take_scored();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].entry_price, 110.0);
}

TEST(Scorer, AdaptiveWeightsDoNotRewardRidingTheDrift) {
  // A steady uptrend with noise: always-BUY is right most of the time, but no better than the
  // drift itself, so its weight stays near 1.
  auto o = opts(1);
  o.adaptive_weights = true;
  Scorer s(o);
  double p = 100.0;
  for (int d = 0; d < 300; ++d) {
    const double move = 0.004 + ((d * 7919) % 13 - 6) / 1000.0;  // +0.4% a bar, +-0.6% noise
    const double c = p * (1.0 + move);
    s.on_bar("AAA", bar(d, p, std::max(p, c) * 1.001, std::min(p, c) * 0.999, c));
    s.on_decision(decision(d, c, {ok("Bull", Action::Buy, 0.8)}));
    p = c;
  }
  const auto scores = s.scores();
  const auto bull =
      std::find_if(scores.begin(), scores.end(), [](const auto& x) { return x.name == "Bull"; });
  ASSERT_NE(bull, scores.end());
  EXPECT_GT(static_cast<double>(bull->hits) / static_cast<double>(bull->scored), 0.7);
  const double m = s.weight_multiplier("Bull", nullptr);
  EXPECT_GT(m, 0.8);
  EXPECT_LT(m, 1.25);
}

TEST(Scorer, RefusesBadOptionsNamingTheSetting) {
  auto o = opts(5);
  o.cost_bps = -1;
  try {
    Scorer s(o);
    FAIL() << "accepted a negative cost";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("GS_SCORE_COST_BPS -1"), std::string::npos) << e.what();
  }
  o = opts(-2);
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = opts(5);
  o.min_scored = 0;  // would divide 0 by 0 into a NaN weight
  try {
    o.validate();
    FAIL() << "accepted min_scored 0";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("min_scored 0 is not accepted"), std::string::npos);
  }
}

TEST(Scorer, TheRuntimeScoresReplayedSignals) {
  RuntimeOptions ro;
  ro.symbols = {"AAA"};
  ro.analyze_on_start = false;
  ro.signal_generation_interval_s = 2 * 86'400;
  ro.scoring = opts(2);
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(ro, sink);
  rt.orchestrator().add_agent(std::make_shared<test::ScriptedAgent>("A", Action::Buy, 0.9));
  rt.orchestrator().add_agent(std::make_shared<test::ScriptedAgent>("B", Action::Buy, 0.9));
  rt.orchestrator().add_agent(std::make_shared<test::ScriptedAgent>("C", Action::Sell, 0.9));
  ReplayFeedOptions fo;
  for (int d = 0; d < 40; ++d) {
    const double p = 100.0 + d;  // steadily up: every BUY hits
    fo.bars["AAA"].push_back(bar(d, p - 0.5, p + 1, p - 1, p));
  }
  rt.set_feed(make_replay_feed(fo));
  rt.start();
  ASSERT_TRUE(rt.wait_feed(std::chrono::seconds(30)));
  rt.wait_idle("AAA");
  EXPECT_EQ(rt.bars_ingested(), 40u);
  rt.stop();  // every decision has reached the scorer once the orchestrator stopped
  const auto rows = rt.scorer()->take_scored();
  // Two BUYs against one SELL agree 0.67, under the 0.7 threshold: no signal, so only the
  // agents' votes are forecasts, three per analysis (at least one every 2 days).
  std::size_t consensus = 0;
  for (const auto& f : rows) consensus += f.consensus ? 1 : 0;
  EXPECT_EQ(consensus, 0u);
  EXPECT_EQ(rows.size() % 3, 0u);
  EXPECT_GE(rows.size(), 3u * 18);
  std::size_t buys = 0;
  for (const auto& f : rows) {
    EXPECT_GT(f.entry_ts_ms, f.decided_ts_ms);
    EXPECT_EQ(f.entry_ts_ms, f.decided_ts_ms + kDay);  // always the very next bar
    EXPECT_EQ(f.hit, f.action == Action::Buy) << f.source;
    buys += f.action == Action::Buy ? 1 : 0;
  }
  EXPECT_GT(buys, 0u);
}

// Votes the direction of the next bar (open to close) of a known path: right every time, or,
// contrarian, wrong every time.
class PathAgent final : public Agent {
 public:
  PathAgent(std::string name, std::vector<Bar> path, bool contrarian)
      : Agent(AgentSpec{std::move(name), 1.0, std::chrono::milliseconds(1000), AgentKind::Native}),
        path_(std::move(path)),
        contrarian_(contrarian) {}
  std::optional<Vote> analyze(const AgentContext& ctx) const override {
    const auto t = ctx.market->time_ms.back();
    for (std::size_t i = 0; i + 1 < path_.size(); ++i) {
      if (path_[i].ts_ms == t) {
        const bool up = path_[i + 1].close > path_[i + 1].open;
        return Vote{(up != contrarian_) ? Action::Buy : Action::Sell, 0.8, {}, {}, {}};
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<Bar> path_;
  bool contrarian_;
};

std::vector<Bar> zigzag(int n) {
  // Moves of varying size and sign with no drift to lean on: only knowing the path helps.
  std::vector<Bar> out;
  double p = 100.0;
  for (int d = 0; d < n; ++d) {
    const double move = ((d * 7919) % 13 - 6) / 400.0;  // -1.5% .. +1.5%
    const double o = p, c = p * (1.0 + move);
    out.push_back(bar(d, o, std::max(o, c) * 1.001, std::min(o, c) * 0.999, c));
    p = c;
  }
  return out;
}

TEST(Scorer, AdaptiveWeightsFollowEachAgentsTrackRecordWithinFloorAndCap) {
  auto o = opts(1);
  o.adaptive_weights = true;
  o.min_scored = 20;
  Scorer s(o);
  const auto path = zigzag(80);
  std::string why;
  for (int d = 0; d + 1 < 80; ++d) {
    s.on_bar("AAA", path[static_cast<std::size_t>(d)]);
    const bool up =
        path[static_cast<std::size_t>(d + 1)].close > path[static_cast<std::size_t>(d + 1)].open;
    s.on_decision(decision(d, path[static_cast<std::size_t>(d)].close,
                           {ok("Right", up ? Action::Buy : Action::Sell, 0.8),
                            ok("Wrong", up ? Action::Sell : Action::Buy, 0.8)}));
    if (d == 25) {
      // Scores exist, but the drift estimate needs 20 forward returns: still neutral early.
      EXPECT_DOUBLE_EQ(s.weight_multiplier("Right", nullptr), 1.0);
    }
  }
  s.on_bar("AAA", path.back());
  EXPECT_DOUBLE_EQ(s.weight_multiplier("Right", &why), 2.0);
  EXPECT_NE(why.find("Right weight x2.00"), std::string::npos) << why;
  EXPECT_DOUBLE_EQ(s.weight_multiplier("Wrong", &why), 0.25);
  EXPECT_NE(why.find("Wrong weight x0.25"), std::string::npos) << why;
  EXPECT_DOUBLE_EQ(s.weight_multiplier("Nobody", nullptr), 1.0);

  auto fixed = opts(1);  // not opted in: weights never move
  Scorer t(fixed);
  for (int d = 0; d + 1 < 80; ++d) {
    t.on_bar("AAA", path[static_cast<std::size_t>(d)]);
    t.on_decision(decision(d, 100, {ok("Right", Action::Buy, 0.8)}));
  }
  EXPECT_DOUBLE_EQ(t.weight_multiplier("Right", nullptr), 1.0);
}

TEST(Scorer, AdaptiveWeightsTurnATiedPanelIntoTheRightAgentsSignalWithTheReason) {
  const auto path = zigzag(120);
  RuntimeOptions ro;
  ro.symbols = {"AAA"};
  ro.analyze_on_start = false;
  ro.signal_generation_interval_s = 86'400;  // every bar
  ro.policy.min_agents = 1;
  ro.scoring = opts(1);
  ro.scoring.adaptive_weights = true;
  auto sink = std::make_shared<test::RecordingSink>();
  Runtime rt(ro, sink);
  rt.orchestrator().add_agent(std::make_shared<PathAgent>("Oracle", path, false));
  rt.orchestrator().add_agent(std::make_shared<PathAgent>("Contrarian", path, true));
  ReplayFeedOptions fo;
  fo.bars["AAA"] = path;
  rt.set_feed(make_replay_feed(fo));
  rt.start();
  ASSERT_TRUE(rt.wait_feed(std::chrono::seconds(30)));
  rt.wait_idle("AAA");
  rt.stop();
  std::lock_guard lk(sink->mu);
  std::size_t early_signals = 0, late_signals = 0, right = 0, explained = 0;
  for (const auto& d : sink->decisions) {
    const auto day = d->market_ts_ms / kDay;
    if (!d->has_signal()) continue;
    (day < 20 ? early_signals : late_signals) += 1;
    const auto i = static_cast<std::size_t>(day) + 1;
    if (i < path.size() &&
        (*d->consensus.action == Action::Buy) == (path[i].close > path[i].open)) {
      ++right;
    }
    for (const auto& line : d->consensus.reasoning) {
      if (line.find("adaptive Oracle weight x2.00") != std::string::npos) ++explained;
    }
  }
  EXPECT_EQ(early_signals, 0u);  // equal weights, opposite votes: no agreement
  EXPECT_GT(late_signals, 50u);
  EXPECT_EQ(right, late_signals);  // every signal is the oracle's
  EXPECT_EQ(explained, late_signals);
}

}  // namespace
}  // namespace gs
