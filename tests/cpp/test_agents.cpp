// The built-in agents on constructed markets whose right answer is known.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "goldensignals/agents/builtin.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/market/market_state.hpp"

namespace {

using gs::Action;
using gs::Bar;

// Builds bar series: each bar opens at the previous close; the range and volume are set per leg.
class Series {
 public:
  explicit Series(unsigned seed = 7, double start = 100.0) : rng_(seed), last_(start) {}

  // n bars with close = prev * (1 + drift + noise * u), u uniform in [-1, 1].
  Series& trend(int n, double drift, double noise, double volume = 1e6, double range = 0.004) {
    for (int i = 0; i < n; ++i) push(last_ * (1.0 + drift + noise * u()), volume, range);
    return *this;
  }
  // n bars oscillating around `level` (an AR(1) with coefficient 0.7): sideways noise.
  Series& sideways(int n, double noise, double level = 100.0, double volume = 1e6,
                   double range = 0.004) {
    double x = last_ / level - 1.0;
    for (int i = 0; i < n; ++i) {
      x = 0.7 * x + noise * u();
      push(level * (1.0 + x), volume, range);
    }
    return *this;
  }
  // One bar to an exact close.
  Series& bar(double close, double volume = 1e6, double range = 0.004) {
    push(close, volume, range);
    return *this;
  }
  [[nodiscard]] const std::vector<Bar>& bars() const { return bars_; }
  [[nodiscard]] double last() const { return last_; }

 private:
  double u() { return std::uniform_real_distribution<double>(-1.0, 1.0)(rng_); }
  void push(double close, double volume, double range) {
    Bar b;
    b.ts_ms = static_cast<std::int64_t>(bars_.size() + 1) * 60'000;
    b.open = last_;
    b.close = close;
    b.high = std::max(b.open, b.close) * (1.0 + range * (0.5 + 0.5 * std::abs(u())));
    b.low = std::min(b.open, b.close) * (1.0 - range * (0.5 + 0.5 * std::abs(u())));
    b.volume = volume * (1.0 + 0.2 * u());
    bars_.push_back(b);
    last_ = close;
  }

  std::mt19937 rng_;
  double last_;
  std::vector<Bar> bars_;
};

std::string joined(const gs::Vote& v) {
  std::string s;
  for (const auto& r : v.reasoning) s += r + "; ";
  return s;
}

// Every vote must be well-formed and cite the indicator it is about.
void expect_valid(const gs::Vote& v, const std::string& mentions) {
  EXPECT_TRUE(std::isfinite(v.confidence));
  EXPECT_GE(v.confidence, 0.0);
  EXPECT_LT(v.confidence, 1.0);
  ASSERT_FALSE(v.reasoning.empty());
  for (const auto& r : v.reasoning) EXPECT_FALSE(r.empty());
  EXPECT_NE(joined(v).find(mentions), std::string::npos) << joined(v);
}

// The agent's vote after the whole series.
std::optional<gs::Vote> last_vote(const gs::Agent& agent, const std::vector<Bar>& bars) {
  gs::MarketState ms("TEST");
  for (const auto& b : bars) ms.on_bar(b);
  return agent.analyze(gs::AgentContext{ms.snapshot(), "test"});
}

struct Tally {
  int buy = 0, sell = 0, hold = 0, abstain = 0;
  [[nodiscard]] int total() const { return buy + sell + hold + abstain; }
};

// The agent's votes on every bar from index `from` on, each checked with expect_valid.
Tally tally(const gs::Agent& agent, const std::vector<Bar>& bars, std::size_t from,
            const std::string& mentions) {
  gs::MarketState ms("TEST");
  Tally t;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    ms.on_bar(bars[i]);
    if (i < from) continue;
    const auto v = agent.analyze(gs::AgentContext{ms.snapshot(), "test"});
    if (!v) {
      ++t.abstain;
      continue;
    }
    expect_valid(*v, mentions);
    (v->action == Action::Buy ? t.buy : v->action == Action::Sell ? t.sell : t.hold) += 1;
  }
  return t;
}

std::string tally_text(const Tally& t) {
  return "buy " + std::to_string(t.buy) + " sell " + std::to_string(t.sell) + " hold " +
         std::to_string(t.hold) + " abstain " + std::to_string(t.abstain);
}

// --- TechnicalAnalyst -------------------------------------------------------------------------

TEST(TechnicalAnalyst, SteadyUptrendBuys) {
  // Noise makes some bars mixed (RSI overbought, MACD histogram flipping); none is bearish.
  const auto bars = Series(1).sideways(60, 0.005).trend(100, 0.003, 0.008).bars();
  const auto t = tally(gs::TechnicalAnalyst(), bars, 100, "RSI(14)");
  EXPECT_GE(t.buy, 0.5 * t.total()) << tally_text(t);
  EXPECT_EQ(t.sell, 0) << tally_text(t);
}

TEST(TechnicalAnalyst, SteadyDowntrendSells) {
  const auto bars = Series(2).sideways(60, 0.005).trend(100, -0.003, 0.008).bars();
  const auto t = tally(gs::TechnicalAnalyst(), bars, 100, "MACD");
  EXPECT_GE(t.sell, 0.5 * t.total()) << tally_text(t);
  EXPECT_EQ(t.buy, 0) << tally_text(t);
}

TEST(TechnicalAnalyst, SidewaysNoiseMostlyHolds) {
  const auto bars = Series(3).sideways(400, 0.01).bars();
  const auto t = tally(gs::TechnicalAnalyst(), bars, 60, "SMA50");
  EXPECT_GE(t.hold, 0.6 * t.total()) << tally_text(t);
}

TEST(TechnicalAnalyst, ReasoningCitesTheNumbers) {
  const auto bars = Series(4).sideways(60, 0.005).trend(60, 0.002, 0.015).bars();
  const auto v = last_vote(gs::TechnicalAnalyst(), bars);
  ASSERT_TRUE(v);
  const auto text = joined(*v);
  for (const char* what : {"RSI(14) ", "MACD ", "SMA20 ", "SMA50 ", "Bollinger", "score "}) {
    EXPECT_NE(text.find(what), std::string::npos) << what << " in " << text;
  }
}

// --- Momentum ---------------------------------------------------------------------------------

TEST(Momentum, StrongUptrendBuys) {
  const auto bars = Series(5).sideways(40, 0.005).trend(80, 0.005, 0.01).bars();
  const auto t = tally(gs::Momentum(), bars, 80, "ROC(10)");
  EXPECT_GE(t.buy, 0.9 * t.total()) << tally_text(t);
  EXPECT_EQ(t.sell, 0) << tally_text(t);
}

TEST(Momentum, StrongDowntrendSells) {
  const auto bars = Series(6).sideways(40, 0.005).trend(80, -0.005, 0.01).bars();
  const auto t = tally(gs::Momentum(), bars, 80, "EMA(12)");
  EXPECT_GE(t.sell, 0.9 * t.total()) << tally_text(t);
  EXPECT_EQ(t.buy, 0) << tally_text(t);
}

TEST(Momentum, SidewaysNoiseMostlyHolds) {
  const auto bars = Series(7).sideways(400, 0.005).bars();
  const auto t = tally(gs::Momentum(), bars, 60, "returns");
  EXPECT_GE(t.hold, 0.8 * t.total()) << tally_text(t);
}

TEST(Momentum, ConfidenceGrowsWithTheTrend) {
  const auto gentle = last_vote(gs::Momentum(), Series(8).trend(80, 0.003, 0.002).bars());
  const auto steep = last_vote(gs::Momentum(), Series(8).trend(80, 0.01, 0.002).bars());
  ASSERT_TRUE(gentle && steep);
  EXPECT_EQ(gentle->action, Action::Buy);
  EXPECT_EQ(steep->action, Action::Buy);
  EXPECT_GT(steep->confidence, gentle->confidence);
}

// --- MeanReversion ----------------------------------------------------------------------------

TEST(MeanReversion, SharpDropIntoOversoldBuys) {
  Series s(9);
  s.sideways(80, 0.003);
  for (int i = 0; i < 3; ++i) s.bar(s.last() * 0.96);
  const auto v = last_vote(gs::MeanReversion(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Buy) << joined(*v);
  EXPECT_GT(v->confidence, 0.6);
  expect_valid(*v, "Bollinger z-score -");
  expect_valid(*v, "RSI(14)");
}

TEST(MeanReversion, SharpSpikeIntoOverboughtSells) {
  Series s(10);
  s.sideways(80, 0.003);
  for (int i = 0; i < 3; ++i) s.bar(s.last() * 1.04);
  const auto v = last_vote(gs::MeanReversion(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Sell) << joined(*v);
  expect_valid(*v, "overbought");
}

TEST(MeanReversion, NearTheMiddleHolds) {
  Series s(11);
  s.sideways(80, 0.004);
  s.bar(100.0);  // the AR(1) series is centred on 100: the middle band is near it
  const auto v = last_vote(gs::MeanReversion(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Hold) << joined(*v);
  expect_valid(*v, "middle band");
  const auto t = tally(gs::MeanReversion(), Series(12).sideways(400, 0.004).bars(), 60, "z-score");
  EXPECT_GE(t.hold, 0.85 * t.total()) << tally_text(t);
}

TEST(MeanReversion, FurtherStretchMeansMoreConfidence) {
  Series a(13), b(13);
  a.sideways(80, 0.003).bar(a.last() * 0.97).bar(a.last() * 0.97);
  b.sideways(80, 0.003).bar(b.last() * 0.95).bar(b.last() * 0.95);
  const auto va = last_vote(gs::MeanReversion(), a.bars());
  const auto vb = last_vote(gs::MeanReversion(), b.bars());
  ASSERT_TRUE(va && vb);
  EXPECT_EQ(va->action, Action::Buy) << joined(*va);
  EXPECT_EQ(vb->action, Action::Buy) << joined(*vb);
  EXPECT_GT(vb->confidence, va->confidence);
}

// --- VolumeAnalyst ----------------------------------------------------------------------------

TEST(VolumeAnalyst, VolumeSurgeWithRisingPriceBuys) {
  Series s(14);
  s.sideways(60, 0.003).trend(10, 0.01, 0.002, 3e6);
  const auto v = last_vote(gs::VolumeAnalyst(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Buy) << joined(*v);
  EXPECT_GT(v->confidence, 0.7);
  expect_valid(*v, "OBV +");
  expect_valid(*v, "volume ratio");
}

TEST(VolumeAnalyst, HeavyVolumeOnAFallSells) {
  Series s(15);
  s.sideways(60, 0.003).trend(10, -0.01, 0.002, 3e6);
  const auto v = last_vote(gs::VolumeAnalyst(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Sell) << joined(*v);
  expect_valid(*v, "OBV -");
}

TEST(VolumeAnalyst, RiseOnThinVolumeAgainstHeavySellingHolds) {
  Series s(16);
  s.sideways(60, 0.003);
  for (int i = 0; i < 5; ++i) {
    s.bar(s.last() * 1.015, 0.5e6);  // up days on thin volume
    s.bar(s.last() * 0.992, 3e6);    // down days on heavy volume
  }
  const auto v = last_vote(gs::VolumeAnalyst(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Hold) << joined(*v);
  expect_valid(*v, "divergence");
}

TEST(VolumeAnalyst, FlatPriceHolds) {
  Series s(17);
  s.sideways(60, 0.003);
  for (int i = 0; i < 10; ++i) s.bar(i % 2 == 0 ? 100.2 : 99.9);
  s.bar(100.0);
  const auto v = last_vote(gs::VolumeAnalyst(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Hold) << joined(*v);
}

// --- VolatilityRegime -------------------------------------------------------------------------

TEST(VolatilityRegime, CalmUptrendBuys) {
  const auto v = last_vote(gs::VolatilityRegime(), Series(18).trend(150, 0.003, 0.004).bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Buy) << joined(*v);
  expect_valid(*v, "ATR(14)");
  expect_valid(*v, "calm regime");
}

TEST(VolatilityRegime, CalmDowntrendSells) {
  const auto v = last_vote(gs::VolatilityRegime(), Series(19).trend(150, -0.003, 0.004).bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Sell) << joined(*v);
}

TEST(VolatilityRegime, VolatilitySpikeHolds) {
  Series s(20);
  s.trend(120, 0.002, 0.003, 1e6, 0.003);
  for (int i = 0; i < 5; ++i) s.bar(s.last() * (i % 2 == 0 ? 1.01 : 0.995), 1e6, 0.05);
  const auto v = last_vote(gs::VolatilityRegime(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Hold) << joined(*v);
  expect_valid(*v, "volatility spike");
}

TEST(VolatilityRegime, DownsideSpikeSells) {
  Series s(21);
  s.trend(120, 0.002, 0.003, 1e6, 0.003);
  for (int i = 0; i < 5; ++i) s.bar(s.last() * 0.96, 1e6, 0.03);
  const auto v = last_vote(gs::VolatilityRegime(), s.bars());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::Sell) << joined(*v);
  expect_valid(*v, "downside");
}

TEST(VolatilityRegime, SidewaysMostlyHolds) {
  const auto t = tally(gs::VolatilityRegime(), Series(22).sideways(400, 0.005).bars(), 60, "ATR");
  EXPECT_GE(t.hold, 0.7 * t.total()) << tally_text(t);
}

// --- all agents -------------------------------------------------------------------------------

TEST(BuiltinAgents, AbstainOnShortHistory) {
  const auto bars = Series(23).trend(15, 0.001, 0.01).bars();
  for (const auto& agent : gs::make_builtin_agents()) {
    EXPECT_FALSE(last_vote(*agent, bars)) << agent->name();
  }
}

TEST(BuiltinAgents, AllVoteOnceWarm) {
  const auto bars = Series(24).trend(60, 0.001, 0.01).bars();
  for (const auto& agent : gs::make_builtin_agents()) {
    EXPECT_TRUE(last_vote(*agent, bars)) << agent->name();
  }
}

TEST(BuiltinAgents, WellFormedAndPureOnARandomWalk) {
  // Regimes change every 100 bars; 700 bars also wrap the 512-bar history.
  Series s(25);
  s.trend(100, 0.0, 0.01).trend(100, 0.003, 0.02, 2e6).trend(100, -0.004, 0.03, 1e6, 0.02);
  s.sideways(100, 0.01, s.last()).trend(100, 0.0, 0.005, 5e5).trend(200, 0.001, 0.015);
  gs::MarketState ms("TEST");
  const auto agents = gs::make_builtin_agents();
  std::vector<int> votes(agents.size(), 0);
  for (const auto& b : s.bars()) {
    ms.on_bar(b);
    const gs::AgentContext ctx{ms.snapshot(), "walk"};
    for (std::size_t k = 0; k < agents.size(); ++k) {
      const auto v = agents[k]->analyze(ctx);
      if (!v) continue;
      ++votes[k];
      expect_valid(*v, "");
      const auto again = agents[k]->analyze(ctx);  // a pure function of the context
      ASSERT_TRUE(again);
      EXPECT_EQ(again->action, v->action);
      EXPECT_EQ(again->confidence, v->confidence);
      EXPECT_EQ(again->reasoning, v->reasoning);
    }
  }
  for (std::size_t k = 0; k < agents.size(); ++k) EXPECT_GT(votes[k], 600) << agents[k]->name();
}

TEST(BuiltinAgents, NamesAndDefaults) {
  const std::vector<std::string> expected{"TechnicalAnalyst", "Momentum", "MeanReversion",
                                          "VolumeAnalyst", "VolatilityRegime"};
  EXPECT_EQ(gs::builtin_agent_names(), expected);
  const auto all = gs::make_builtin_agents();
  ASSERT_EQ(all.size(), 5u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]->name(), expected[i]);
    EXPECT_EQ(all[i]->spec().weight, 1.0);
    EXPECT_EQ(all[i]->spec().timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(all[i]->spec().kind, gs::AgentKind::Native);
  }
  const auto two = gs::make_builtin_agents({"VolumeAnalyst", "Momentum"});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0]->name(), "VolumeAnalyst");
  EXPECT_EQ(two[1]->name(), "Momentum");
}

TEST(BuiltinAgents, UnknownNameThrowsNamingItAndTheKnownOnes) {
  try {
    (void)gs::make_builtin_agents({"Momentum", "Astrologer"});
    FAIL() << "expected gs::InvalidArgument";
  } catch (const gs::InvalidArgument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'Astrologer'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("TechnicalAnalyst"), std::string::npos) << msg;
    EXPECT_NE(msg.find("VolatilityRegime"), std::string::npos) << msg;
  }
}

}  // namespace
