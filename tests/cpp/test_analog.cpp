// The Analog agent: features from the past only, the as-of filter (exact with either index),
// live learning equal to a preloaded history, a planted pattern found, and the controls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "goldensignals/agents/analog.hpp"
#include "goldensignals/core/errors.hpp"

namespace gs {
namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kStart = 946'684'800'000;  // 2000-01-01

struct Series {
  std::vector<std::int64_t> time;
  std::vector<double> close, volume;
};

// A random walk, or (cycle > 0) a price that swings with that period plus noise: the
// next bars then follow from where in the swing it is, which the features can see.
Series make_series(std::size_t n, std::uint64_t seed, double cycle = 0, double noise = 0.01) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> eps(0.0, noise);
  std::uniform_real_distribution<double> vol(0.8, 1.2);
  Series s;
  double walk = 0;
  for (std::size_t i = 0; i < n; ++i) {
    walk += eps(rng);
    const double swing = cycle > 0 ? 0.08 * std::sin(2 * M_PI * static_cast<double>(i) / cycle) : 0;
    s.time.push_back(kStart + static_cast<std::int64_t>(i) * kDay);
    s.close.push_back(100.0 * std::exp(walk * (cycle > 0 ? 0.2 : 1.0) + swing));
    s.volume.push_back(1e6 * vol(rng));
  }
  return s;
}

// The snapshot an analysis at bar j sees: the last `window` bars up to j.
AgentContext context_at(const std::string& symbol, const Series& s, std::size_t j,
                        std::size_t window = 512) {
  auto snap = std::make_shared<MarketSnapshot>();
  snap->symbol = symbol;
  const std::size_t from = j + 1 > window ? j + 1 - window : 0;
  for (std::size_t i = from; i <= j; ++i) {
    snap->time_ms.push_back(s.time[i]);
    snap->open.push_back(s.close[i]);
    snap->high.push_back(s.close[i]);
    snap->low.push_back(s.close[i]);
    snap->close.push_back(s.close[i]);
    snap->volume.push_back(s.volume[i]);
  }
  snap->price = s.close[j];
  snap->as_of_ms = s.time[j];
  snap->bars_seen = j + 1;
  return AgentContext{snap, "test"};
}

TEST(AnalogFeatures, ReadOnlyThePastAndAreScaleFree) {
  auto s = make_series(400, 1);
  const auto f = analog_features(s.close.data(), s.volume.data(), 300);
  ASSERT_TRUE(f);
  auto later = s;
  for (std::size_t i = 301; i < later.close.size(); ++i) {
    later.close[i] *= 3.0;
    later.volume[i] = 1.0;
  }
  EXPECT_EQ(*analog_features(later.close.data(), later.volume.data(), 300), *f);
  auto scaled = s;
  for (auto& c : scaled.close) c *= 37.0;
  for (auto& v : scaled.volume) v *= 5.0;
  const auto g = analog_features(scaled.close.data(), scaled.volume.data(), 300);
  ASSERT_TRUE(g);
  for (std::size_t i = 0; i < kAnalogDims; ++i) EXPECT_NEAR((*g)[i], (*f)[i], 1e-4) << i;
  for (float x : *f) EXPECT_LE(std::abs(x), 5.0F);
  EXPECT_FALSE(analog_features(s.close.data(), s.volume.data(), 59));  // 60 bars before it
  std::vector<double> flat(100, 10.0), v(100, 1.0);
  EXPECT_FALSE(analog_features(flat.data(), v.data(), 80));  // nothing moved
}

TEST(Analog, AsOfFilterNeverRetrievesAnOutcomeNotYetKnown) {
  const auto s = make_series(3000, 2);
  std::map<std::int64_t, std::size_t> index;
  for (std::size_t i = 0; i < s.time.size(); ++i) index[s.time[i]] = i;
  for (bool as_of : {true, false}) {
    AnalogOptions o;
    o.as_of = as_of;
    Analog a(o);
    a.learn("SPY", s.time, s.close, s.volume);  // the whole history, known in advance
    EXPECT_EQ(a.size(), 3000u - 60u - o.horizon);
    std::size_t leaks = 0;
    for (std::size_t j = 100; j < 3000; j += 37) {
      const auto q = analog_features(s.close.data(), s.volume.data(), j);
      ASSERT_TRUE(q);
      for (const auto& m : a.nearest(*q, "SPY", s.time[j])) {
        leaks += index.at(m.time_ms) + o.horizon > j;
      }
    }
    if (as_of) {
      EXPECT_EQ(leaks, 0u);
    } else {
      EXPECT_GT(leaks, 100u);  // the control: without the filter the future is retrieved
    }
  }
}

TEST(Analog, TheApproximateIndexKeepsTheFilterExactAndFindsTheNearest) {
  const auto s = make_series(12'000, 3);
  AnalogOptions exact_o, hnsw_o;
  exact_o.exact_limit = 1'000'000;
  hnsw_o.exact_limit = 1'000;
  Analog exact(exact_o), approx(hnsw_o);
  exact.learn("X", s.time, s.close, s.volume);
  approx.learn("X", s.time, s.close, s.volume);
  std::size_t found = 0, wanted = 0;
  for (std::size_t j = 2'000; j < 12'000; j += 97) {
    const auto q = analog_features(s.close.data(), s.volume.data(), j);
    ASSERT_TRUE(q);
    const auto e = exact.nearest(*q, "X", s.time[j]);
    const auto h = approx.nearest(*q, "X", s.time[j]);
    ASSERT_EQ(h.size(), e.size());
    std::set<std::int64_t> truth;
    for (const auto& m : e) truth.insert(m.time_ms);
    for (const auto& m : h) {
      EXPECT_LE(m.time_ms + static_cast<std::int64_t>(hnsw_o.horizon) * kDay, s.time[j]);
      found += truth.count(m.time_ms);
    }
    wanted += e.size();
  }
  EXPECT_GE(static_cast<double>(found) / static_cast<double>(wanted), 0.9);  // recall@20
  std::printf("HNSW recall@20 %.3f\n", static_cast<double>(found) / static_cast<double>(wanted));
}

TEST(Analog, LearningLiveVotesExactlyAsAPreloadedHistory) {
  const auto s = make_series(1500, 4);
  Analog live, preloaded;
  preloaded.learn("QQQ", s.time, s.close, s.volume);
  std::size_t votes = 0;
  for (std::size_t j = 0; j < s.time.size(); j += 5) {
    const auto a = live.analyze(context_at("QQQ", s, j));
    const auto b = preloaded.analyze(context_at("QQQ", s, j));
    ASSERT_EQ(a.has_value(), b.has_value()) << j;
    if (!a) continue;
    ++votes;
    EXPECT_EQ(a->action, b->action) << j;
    EXPECT_EQ(a->confidence, b->confidence) << j;
    EXPECT_EQ(a->reasoning, b->reasoning) << j;
  }
  EXPECT_GT(votes, 250u);
}

// Direction calls on the swinging series' second half: hit rate and calls made.
std::pair<double, std::size_t> hit_rate(const AnalogOptions& o, std::uint64_t seed) {
  const auto s = make_series(4000, seed, 40.0);
  Analog a(o);
  std::size_t hits = 0, calls = 0;
  for (std::size_t j = 0; j + o.horizon < s.time.size(); ++j) {
    const auto v = a.analyze(context_at("SIN", s, j));
    if (j < 2000 || !v || v->action == Action::Hold) continue;
    const bool rose = s.close[j + o.horizon] > s.close[j];
    hits += (v->action == Action::Buy) == rose;
    ++calls;
  }
  return {calls ? static_cast<double>(hits) / static_cast<double>(calls) : 0.0, calls};
}

TEST(Analog, FindsAPlantedPatternAndTheShuffleControlRemovesIt) {
  AnalogOptions o;
  const auto [real, calls] = hit_rate(o, 5);
  EXPECT_GT(calls, 1000u);
  EXPECT_GT(real, 0.8);
  o.shuffle_outcomes = true;
  const auto [shuffled, shuffled_calls] = hit_rate(o, 5);
  EXPECT_LT(shuffled, 0.6) << shuffled_calls;
  std::printf("planted pattern: hit rate %.3f over %zu calls; outcomes shuffled %.3f over %zu\n",
              real, calls, shuffled, shuffled_calls);
}

TEST(Analog, ReasoningNamesTheAnalogs) {
  const auto s = make_series(800, 6);
  Analog a;
  const auto v = a.analyze(context_at("SPY", s, 700));
  ASSERT_TRUE(v);
  ASSERT_GE(v->reasoning.size(), 4u);
  EXPECT_NE(v->reasoning[0].find("closest of"), std::string::npos) << v->reasoning[0];
  EXPECT_NE(v->reasoning[0].find("past setups rose over the next 5 bars"), std::string::npos);
  // "analog 2001-08-20 (distance 1.23): +0.45%"
  EXPECT_EQ(v->reasoning[1].rfind("analog 200", 0), 0u) << v->reasoning[1];
  EXPECT_NE(v->reasoning[1].find("(distance "), std::string::npos);
}

TEST(Analog, AbstainsUntilEnoughOutcomesAreKnown) {
  const auto s = make_series(200, 7);
  AnalogOptions o;
  o.min_history = 100;
  Analog a(o);
  EXPECT_FALSE(a.analyze(context_at("A", s, 59)));   // no features yet
  EXPECT_FALSE(a.analyze(context_at("A", s, 150)));  // 86 outcomes known
  EXPECT_TRUE(a.analyze(context_at("A", s, 170)));   // 106
}

TEST(Analog, CrossSymbolRetrievesOtherSymbolsAsOfTheSameTime) {
  const auto x = make_series(1000, 8), y = make_series(1000, 9);
  AnalogOptions o;
  o.cross_symbol = true;
  Analog a(o);
  a.learn("X", x.time, x.close, x.volume);
  a.learn("Y", y.time, y.close, y.volume);
  std::set<std::string> symbols;
  for (std::size_t j = 200; j < 1000; j += 50) {
    const auto q = analog_features(x.close.data(), x.volume.data(), j);
    for (const auto& m : a.nearest(*q, "X", x.time[j])) {
      symbols.insert(m.symbol);
      EXPECT_LE(m.time_ms + 5 * kDay, x.time[j]);
    }
  }
  EXPECT_EQ(symbols, (std::set<std::string>{"X", "Y"}));
}

TEST(Analog, RefusesBadOptionsNamingThem) {
  AnalogOptions o;
  o.k = 0;
  try {
    Analog a(o);
    FAIL() << "k = 0 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("Analog k = 0 is not accepted; expected 1 to 1000"),
              std::string::npos)
        << e.what();
  }
  o = {};
  o.min_agreement = 2;
  EXPECT_THROW(Analog{o}, InvalidArgument);
  Analog a;
  EXPECT_THROW(a.learn("A", {1, 2}, {1.0}, {1.0, 2.0}), InvalidArgument);
}

}  // namespace
}  // namespace gs
