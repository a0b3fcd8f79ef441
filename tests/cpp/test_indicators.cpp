// Indicators: hand-checked values, lead-in NaNs, streaming == batch, argument checks.
// The agreement with TA-Lib itself is tested from Python (tests/py/test_indicators.py).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/indicators/batch.hpp"
#include "goldensignals/indicators/indicator_set.hpp"
#include "goldensignals/indicators/streaming.hpp"

namespace gs::ind {
namespace {

const double nan = kNaN;

// Equal as bit patterns, so NaN == NaN and 0.0 != -0.0.
void expect_same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i]), std::bit_cast<std::uint64_t>(b[i]))
        << "at " << i << ": " << a[i] << " vs " << b[i];
  }
}

// NaN where expected is NaN, else within 1e-12.
void expect_values(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": " << got[i];
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-12) << "at " << i;
    }
  }
}

// Throws InvalidArgument whose message contains every one of `parts`.
template <class F>
void expect_invalid(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const InvalidArgument& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

std::vector<double> random_walk(unsigned seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0.0, 1.0);
  std::vector<double> x(n);
  double p = 100.0;
  for (auto& v : x) v = (p += step(rng));
  return x;
}

TEST(Indicators, SmaByHand) {
  expect_values(sma(std::vector<double>{1, 2, 3, 4, 5}, 3), {nan, nan, 2, 3, 4});
}

TEST(Indicators, EmaSeededWithSma) {
  // k = 2 / (3 + 1) = 0.5; seed = mean(2, 4, 6) = 4; then 4 + 0.5 * (8 - 4) = 6; 6 + 0.5 * 6 = 9.
  expect_values(ema(std::vector<double>{2, 4, 6, 8, 12}, 3), {nan, nan, 4, 6, 9});
}

TEST(Indicators, RsiWilder) {
  // Changes +1, -1, +1, +1. First averages 0.5 / 0.5, then Wilder with period 2.
  expect_values(rsi(std::vector<double>{1, 2, 1, 2, 3}, 2), {nan, nan, 50, 75, 87.5});
  // No movement at all: TA-Lib reports 0, not NaN.
  expect_values(rsi(std::vector<double>{5, 5, 5, 5}, 2), {nan, nan, 0, 0});
  // Only gains: 100.
  expect_values(rsi(std::vector<double>{1, 2, 3, 4}, 2), {nan, nan, 100, 100});
}

TEST(Indicators, MacdAlignsTheFastEma) {
  // fast 2, slow 3, signal 2 on 1..6: at index 2 the slow EMA is mean(1,2,3) = 2 and the fast
  // one mean(2,3) = 2.5, so macd = 0.5 from there on; output starts at 3 - 1 + 2 - 1 = 3.
  const auto m = macd(std::vector<double>{1, 2, 3, 4, 5, 6}, 2, 3, 2);
  expect_values(m.macd, {nan, nan, nan, 0.5, 0.5, 0.5});
  expect_values(m.signal, {nan, nan, nan, 0.5, 0.5, 0.5});
  expect_values(m.hist, {nan, nan, nan, 0, 0, 0});
}

TEST(Indicators, MacdSwapsFastAndSlowLikeTaLib) {
  const auto x = random_walk(7, 200);
  const auto a = macd(x, 12, 26, 9);
  const auto b = macd(x, 26, 12, 9);
  expect_same_bits(a.macd, b.macd);
  expect_same_bits(a.hist, b.hist);
}

TEST(Indicators, BbandsPopulationStddev) {
  const auto b = bbands(std::vector<double>{1, 2, 3, 4}, 3, 2.0, 1.0);
  const double sd = std::sqrt(2.0 / 3.0);
  expect_values(b.middle, {nan, nan, 2, 3});
  expect_values(b.upper, {nan, nan, 2 + 2 * sd, 3 + 2 * sd});
  expect_values(b.lower, {nan, nan, 2 - sd, 3 - sd});
  // A constant window has zero width.
  const auto c = bbands(std::vector<double>{7, 7, 7}, 2, 2.0, 2.0);
  expect_values(c.upper, {nan, 7, 7});
}

TEST(Indicators, AtrByHand) {
  const std::vector<double> h{10, 11, 12, 14}, l{9, 9, 10, 12}, c{9.5, 10, 11, 12.5};
  // True ranges from index 1: 2, 2, 3. First ATR = mean(2, 2); then (2 * 1 + 3) / 2.
  expect_values(atr(h, l, c, 2), {nan, nan, 2, 2.5});
  // Period 1 is the true range itself.
  expect_values(atr(h, l, c, 1), {nan, 2, 2, 3});
}

TEST(Indicators, RocAndObvByHand) {
  expect_values(roc(std::vector<double>{1, 2, 4, 4}, 2), {nan, nan, 300, 100});
  expect_values(roc(std::vector<double>{0, 1, 2}, 2), {nan, nan, 0});  // zero base: TA-Lib gives 0
  expect_values(obv(std::vector<double>{1, 2, 2, 1}, std::vector<double>{10, 20, 30, 40}),
                {10, 30, 30, -10});
}

TEST(Indicators, LeadInLengths) {
  const auto x = random_walk(1, 100);
  auto first = [](const std::vector<double>& v) {
    std::size_t i = 0;
    while (i < v.size() && std::isnan(v[i])) ++i;
    return i;
  };
  EXPECT_EQ(first(sma(x, 30)), 29u);
  EXPECT_EQ(first(ema(x, 30)), 29u);
  EXPECT_EQ(first(rsi(x, 14)), 14u);
  EXPECT_EQ(first(macd(x, 12, 26, 9).macd), 33u);
  EXPECT_EQ(first(bbands(x, 5, 2, 2).upper), 4u);
  EXPECT_EQ(first(atr(x, x, x, 14)), 14u);
  EXPECT_EQ(first(roc(x, 10)), 10u);
  EXPECT_EQ(first(obv(x, x)), 0u);
  EXPECT_EQ(first(sma(std::vector<double>{1, 2}, 3)), 2u);  // too short: all NaN
}

TEST(Indicators, LeadingNansAreSkipped) {
  expect_values(sma(std::vector<double>{nan, nan, 1, 2, 3}, 2), {nan, nan, nan, 1.5, 2.5});
  expect_values(obv(std::vector<double>{1, nan, 2, 3}, std::vector<double>{nan, 1, 5, 2}),
                {nan, nan, 5, 7});
  expect_values(sma(std::vector<double>{nan, nan}, 2), {nan, nan});
}

TEST(Indicators, StreamingEqualsBatchBitForBit) {
  for (unsigned seed : {1u, 2u, 3u}) {
    const auto x = random_walk(seed, 500);
    std::vector<double> h(x), l(x), v(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      h[i] = x[i] + 0.5 + 0.1 * static_cast<double>(i % 7);
      l[i] = x[i] - 0.4 - 0.1 * static_cast<double>(i % 5);
      v[i] = 1000.0 + static_cast<double>((i * 37) % 101);
    }
    Sma s(20);
    Ema e(12);
    Rsi r(14);
    Macd m(12, 26, 9);
    Bbands b(20, 2.0, 1.5);
    Atr a(14);
    Roc rc(10);
    Obv o;
    std::vector<double> ss, es, rs, ms, sg, hs, bu, bm, bl, as, rcs, os;
    for (std::size_t i = 0; i < x.size(); ++i) {
      ss.push_back(s.update(x[i]));
      es.push_back(e.update(x[i]));
      rs.push_back(r.update(x[i]));
      const auto mo = m.update(x[i]);
      ms.push_back(mo.macd);
      sg.push_back(mo.signal);
      hs.push_back(mo.hist);
      const auto bo = b.update(x[i]);
      bu.push_back(bo.upper);
      bm.push_back(bo.middle);
      bl.push_back(bo.lower);
      as.push_back(a.update(h[i], l[i], x[i]));
      rcs.push_back(rc.update(x[i]));
      os.push_back(o.update(x[i], v[i]));
    }
    expect_same_bits(ss, sma(x, 20));
    expect_same_bits(es, ema(x, 12));
    expect_same_bits(rs, rsi(x, 14));
    const auto mb = macd(x, 12, 26, 9);
    expect_same_bits(ms, mb.macd);
    expect_same_bits(sg, mb.signal);
    expect_same_bits(hs, mb.hist);
    const auto bb = bbands(x, 20, 2.0, 1.5);
    expect_same_bits(bu, bb.upper);
    expect_same_bits(bm, bb.middle);
    expect_same_bits(bl, bb.lower);
    expect_same_bits(as, atr(h, l, x, 14));
    expect_same_bits(rcs, roc(x, 10));
    expect_same_bits(os, obv(x, v));
  }
}

TEST(Indicators, BadParametersThrow) {
  const std::vector<double> x{1, 2, 3};
  expect_invalid([&] { sma(x, 1); },
                 {"sma: timeperiod 1 is not accepted; expected an integer in [2, 100000]"});
  expect_invalid([&] { ema(x, 100001); }, {"ema", "timeperiod", "100001"});
  expect_invalid([&] { rsi(x, 0); }, {"rsi", "timeperiod", "0"});
  expect_invalid([&] { macd(x, 1, 26, 9); }, {"macd", "fastperiod", "1"});
  expect_invalid([&] { macd(x, 12, -3, 9); }, {"macd", "slowperiod", "-3"});
  expect_invalid([&] { macd(x, 12, 26, 0); }, {"macd", "signalperiod", "0", "[1, 100000]"});
  expect_invalid([&] { bbands(x, 5, kNaN, 2.0); }, {"bbands", "nbdevup", "nan"});
  expect_invalid([&] { bbands(x, 5, 2.0, INFINITY); }, {"bbands", "nbdevdn", "inf"});
  expect_invalid([&] { atr(x, x, x, 0); }, {"atr", "timeperiod", "0", "[1, 100000]"});
  expect_invalid([&] { roc(x, 0); }, {"roc", "timeperiod", "0"});
  expect_invalid([] { Sma s(1); }, {"sma", "timeperiod"});
}

TEST(Indicators, BadInputsThrow) {
  expect_invalid([] { sma(std::vector<double>{1, 2, nan, 4}, 2); }, {"sma", "real[2]", "nan"});
  expect_invalid([] { rsi(std::vector<double>{nan, INFINITY, 1}, 2); }, {"rsi", "real[1]", "inf"});
  const std::vector<double> a{1, 2, 3}, b{1, 2};
  expect_invalid([&] { atr(a, a, b, 2); }, {"atr", "high, low, close", "3, 3, 2"});
  expect_invalid([&] { obv(a, b); }, {"obv", "real, volume", "3, 2"});
  expect_invalid([&] { atr(a, std::vector<double>{1, nan, 3}, a, 2); }, {"atr", "low[1]"});
  Ema e(3);
  expect_invalid([&] { e.update(nan); }, {"ema", "nan"});
  EXPECT_TRUE(std::isnan(e.value()));  // the failed update left no trace
}

TEST(IndicatorSet, FillsValuesLikeTheBatchFunctions) {
  const auto x = random_walk(11, 80);
  std::vector<double> h(x), l(x), v(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    h[i] += 1.0;
    l[i] -= 1.0;
    v[i] = 100.0 + static_cast<double>(i);
  }
  IndicatorSet set;
  EXPECT_TRUE(set.values().defined().empty());
  for (std::size_t i = 0; i < x.size(); ++i) {
    Bar bar{static_cast<std::int64_t>(i) * 60000, x[i], h[i], l[i], x[i], v[i]};
    set.update(bar);
    if (i == 0) {
      const auto d = set.values().defined();
      ASSERT_EQ(d.size(), 1u);  // only OBV is defined from the first bar
      EXPECT_EQ(d[0].first, "obv");
      EXPECT_EQ(d[0].second, v[0]);
    }
  }
  const auto& got = set.values();
  const std::size_t last = x.size() - 1;
  EXPECT_EQ(got.sma_20, sma(x, 20)[last]);
  EXPECT_EQ(got.sma_50, sma(x, 50)[last]);
  EXPECT_EQ(got.ema_12, ema(x, 12)[last]);
  EXPECT_EQ(got.ema_26, ema(x, 26)[last]);
  EXPECT_EQ(got.rsi_14, rsi(x, 14)[last]);
  const auto m = macd(x, 12, 26, 9);
  EXPECT_EQ(got.macd, m.macd[last]);
  EXPECT_EQ(got.macd_signal, m.signal[last]);
  EXPECT_EQ(got.macd_hist, m.hist[last]);
  const auto b = bbands(x, 20, 2.0, 2.0);
  EXPECT_EQ(got.bb_upper, b.upper[last]);
  EXPECT_EQ(got.bb_middle, b.middle[last]);
  EXPECT_EQ(got.bb_lower, b.lower[last]);
  EXPECT_EQ(got.atr_14, atr(h, l, x, 14)[last]);
  EXPECT_EQ(got.roc_10, roc(x, 10)[last]);
  EXPECT_EQ(got.obv, obv(x, v)[last]);
  const double vsma = sma(v, 20)[last];
  EXPECT_EQ(got.volume_sma_20, vsma);
  EXPECT_EQ(got.volume_ratio, v[last] / vsma);

  const auto d = got.defined();
  ASSERT_EQ(d.size(), 16u);
  EXPECT_EQ(d.front().first, "sma_20");
  EXPECT_EQ(d[4].first, "rsi_14");
  EXPECT_EQ(d.back().first, "volume_ratio");
}

TEST(IndicatorSet, RejectsBadBarsWithoutChangingState) {
  IndicatorSet set;
  set.update(Bar{0, 1, 2, 0.5, 1.5, 10});
  const double obv_before = set.values().obv;
  try {
    set.update(Bar{1, 1, 2, 0.5, nan, 10});
    ADD_FAILURE() << "no exception";
  } catch (const BadMarketData& e) {
    EXPECT_NE(std::string(e.what()).find("close"), std::string::npos) << e.what();
  }
  EXPECT_EQ(set.values().obv, obv_before);
}

TEST(IndicatorSet, VolumeRatioNeedsPositiveAverage) {
  IndicatorSet set;
  for (int i = 0; i < 25; ++i) set.update(Bar{i, 1, 1, 1, 1, 0});
  EXPECT_EQ(set.values().volume_sma_20, 0.0);
  EXPECT_TRUE(std::isnan(set.values().volume_ratio));
}

}  // namespace
}  // namespace gs::ind
