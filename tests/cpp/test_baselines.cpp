#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/evaluation/baselines.hpp"

namespace gs {
namespace {

double plain_sharpe(const std::vector<double>& r, double ppy) {
  const double n = static_cast<double>(r.size());
  const double mean = std::accumulate(r.begin(), r.end(), 0.0) / n;
  double ss = 0.0;
  for (double x : r) ss += (x - mean) * (x - mean);
  return mean / std::sqrt(ss / (n - 1)) * std::sqrt(ppy);
}

// n returns drawn from a normal distribution with this mean and a 1% sd.
std::vector<double> noise(std::uint64_t seed, double mean, std::size_t n) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> draw(mean, 0.01);
  std::vector<double> r(n);
  for (auto& x : r) x = draw(gen);
  return r;
}

TEST(Baselines, SharpeRatioIsMeanOverSampleSdAnnualized) {
  const auto r = noise(7, 0.0004, 1000);
  EXPECT_NEAR(sharpe_ratio(r, 252.0), plain_sharpe(r, 252.0), 1e-12);
  // Scale invariant, also where squaring would overflow or underflow.
  std::vector<double> big(r), tiny(r);
  for (auto& x : big) x *= 1e300;
  for (auto& x : tiny) x *= 1e-300;
  EXPECT_NEAR(sharpe_ratio(big, 252.0), plain_sharpe(r, 252.0), 1e-9);
  EXPECT_NEAR(sharpe_ratio(tiny, 252.0), plain_sharpe(r, 252.0), 1e-9);
  std::vector<double> subnormal{4e-320, 1e-320, 3e-320, 2e-320};
  EXPECT_NEAR(sharpe_ratio(subnormal, 1.0), plain_sharpe({4, 1, 3, 2}, 1.0), 1e-3);
  EXPECT_TRUE(std::isnan(sharpe_ratio(std::vector<double>{0.01}, 252.0)));
  EXPECT_TRUE(std::isnan(sharpe_ratio(std::vector<double>(10, 0.02), 252.0)));
  EXPECT_TRUE(std::isnan(sharpe_ratio(std::vector<double>{0.01, NAN, 0.02}, 252.0)));
}

// Returns that are zero on every bar, so a draw's panel shows only its costs: -cost where a
// trade enters and where it exits (-2 cost when both are one bar).
TEST(Baselines, DrawsPlaceTheAskedTradesWithoutOverlap) {
  const std::size_t n = 500;
  std::vector<double> zero(n, 0.0);
  BaselineSymbol sym{zero, zero, {}, 40};
  RandomTradeOptions opts{{3, 5, 8}, 0.5, 0.001, 252.0, 300, 11, 0};
  std::size_t draws = 0;
  for_each_random_trade_draw(std::span(&sym, 1), opts, [&](std::span<const double> p) {
    ASSERT_EQ(p.size(), n);
    int marks = 0;
    for (double x : p) {
      // Entries and exits of different trades never share a bar (no -2 cost) as lengths > 1.
      ASSERT_TRUE(x == 0.0 || std::fabs(x + 0.001) < 1e-15) << x;
      marks += x != 0.0;
    }
    EXPECT_EQ(marks, 80);  // 40 trades, an entry and an exit each
    ++draws;
  });
  EXPECT_EQ(draws, 300u);
}

TEST(Baselines, ATradeOverEveryBarEarnsEachBarsReturn) {
  const auto cc = noise(3, 0.0, 50), oc = noise(4, 0.0, 50);
  BaselineSymbol sym{cc, oc, {}, 1};
  std::vector<double> want(cc);
  want[0] = oc[0] - 0.002;
  want[49] -= 0.002;
  for (double buy : {1.0, 0.0}) {
    RandomTradeOptions opts{{50}, buy, 0.002, 252.0, 3, 5, 0};
    for_each_random_trade_draw(std::span(&sym, 1), opts, [&](std::span<const double> p) {
      const double side = buy == 1.0 ? 1.0 : -1.0;
      for (std::size_t t = 0; t < p.size(); ++t) {
        const double w = t == 0 ? side * oc[0] - 0.002 : side * cc[t] - (t == 49 ? 0.002 : 0.0);
        EXPECT_DOUBLE_EQ(p[t], w) << t;
      }
    });
  }
  // Longer than the data: one trade, cut to the bars there are.
  RandomTradeOptions longer{{80}, 1.0, 0.002, 252.0, 1, 5, 0};
  auto sh = random_trade_sharpes(std::span(&sym, 1), longer);
  ASSERT_EQ(sh.size(), 1u);
  EXPECT_NEAR(sh[0], plain_sharpe(want, 252.0), 1e-12);
}

TEST(Baselines, SymbolsAreEquallyWeightedPerTime) {
  // Symbol a trades on times 0..9, symbol b on times 5..14; each has one trade over all its
  // bars, so every bar earns its close-to-close return (no cost here).
  std::vector<double> a(10, 0.01), b(10, 0.03);
  std::vector<std::int64_t> sa(10), sb(10);
  std::iota(sa.begin(), sa.end(), 0);
  std::iota(sb.begin(), sb.end(), 5);
  std::vector<BaselineSymbol> syms{{a, a, sa, 1}, {b, b, sb, 1}};
  RandomTradeOptions opts{{10}, 1.0, 0.0, 252.0, 1, 1, 15};
  for_each_random_trade_draw(syms, opts, [&](std::span<const double> p) {
    ASSERT_EQ(p.size(), 15u);
    for (std::size_t t = 0; t < 15; ++t) {
      const double want = t < 5 ? 0.01 : t < 10 ? 0.02 : 0.03;
      EXPECT_NEAR(p[t], want, 1e-15) << t;
    }
  });
}

TEST(Baselines, TheSeedFixesTheDraws) {
  const auto cc = noise(9, 0.0003, 2000), oc = noise(10, 0.0003, 2000);
  BaselineSymbol sym{cc, oc, {}, 150};
  RandomTradeOptions opts{{1, 2, 5, 5, 9}, 0.6, 0.0002, 252.0, 100, 42, 0};
  const auto first = random_trade_sharpes(std::span(&sym, 1), opts);
  EXPECT_EQ(first, random_trade_sharpes(std::span(&sym, 1), opts));
  opts.seed = 43;
  const auto other = random_trade_sharpes(std::span(&sym, 1), opts);
  EXPECT_NE(first, other);
  // Random trades on noise: the draws' Sharpe ratios centre near zero.
  const double mean = std::accumulate(first.begin(), first.end(), 0.0) / 100.0;
  EXPECT_LT(std::fabs(mean), 1.0);
}

// One symbol's Sharpe ratios come from the trades' running sums; they must equal the Sharpe
// ratio of each draw's bars, followed one by one.
TEST(Baselines, OneSymbolsShortcutEqualsFollowingEveryBar) {
  const auto cc = noise(21, 0.0002, 3000), oc = noise(22, 0.0002, 3000);
  for (std::size_t trades : {1u, 40u, 400u, 2000u}) {
    BaselineSymbol sym{cc, oc, {}, trades};
    RandomTradeOptions opts{{1, 3, 4, 10, 25}, 0.55, 0.0003, 252.0, 50, trades, 0};
    const auto fast = random_trade_sharpes(std::span(&sym, 1), opts);
    std::vector<double> slow;
    for_each_random_trade_draw(std::span(&sym, 1), opts, [&](std::span<const double> p) {
      slow.push_back(sharpe_ratio(p, 252.0));
    });
    ASSERT_EQ(fast.size(), slow.size());
    for (std::size_t d = 0; d < fast.size(); ++d) {
      EXPECT_NEAR(fast[d], slow[d], 1e-9 * std::max(1.0, std::fabs(slow[d])))
          << trades << " trades, draw " << d;
    }
  }
}

TEST(Baselines, BadOptionsAreRefusedByName) {
  std::vector<double> r(10, 0.0);
  std::vector<std::int64_t> slots(9, 0);
  BaselineSymbol sym{r, r, {}, 1};
  auto refused = [&](RandomTradeOptions o, std::span<const BaselineSymbol> s, const char* what) {
    try {
      (void)random_trade_sharpes(s, o);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refused({{0}, 0.5, 0.0, 252.0, 1, 0, 0}, std::span(&sym, 1), "holding length 0");
  refused({{1}, 1.5, 0.0, 252.0, 1, 0, 0}, std::span(&sym, 1), "buy share 1.5");
  refused({{1}, 0.5, -1.0, 252.0, 1, 0, 0}, std::span(&sym, 1), "cost -1");
  refused({{1}, 0.5, 0.0, 0.0, 1, 0, 0}, std::span(&sym, 1), "periods per year 0");
  std::vector<BaselineSymbol> two{{r, r, slots, 1}, {r, r, slots, 1}};
  refused({{1}, 0.5, 0.0, 252.0, 1, 0, 20}, two, "9 slots; expected one of each per bar");
  std::vector<std::int64_t> far(10, 30);
  std::vector<BaselineSymbol> out_of_range{{r, r, far, 1}, {r, r, far, 1}};
  refused({{1}, 0.5, 0.0, 252.0, 1, 0, 20}, out_of_range,
          "slot 30 of symbol 0 is not accepted; "
          "expected 0 to 19");
  refused({{std::int64_t{1} << 40}, 0.5, 0.0, 252.0, 1, 0, 0}, std::span(&sym, 1),
          "holding length 1099511627776");
  BaselineSymbol crowded{r, r, {}, 11};
  refused({{1}, 0.5, 0.0, 252.0, 1, 0, 0}, std::span(&crowded, 1), "11 trades");
  std::vector<double> gap(r);
  gap[4] = INFINITY;
  BaselineSymbol broken{gap, r, {}, 1};
  refused({{1}, 0.5, 0.0, 252.0, 1, 0, 0}, std::span(&broken, 1), "the return of bar 4 is inf");
  std::vector<std::int64_t> ten(10);
  std::iota(ten.begin(), ten.end(), 0);
  std::vector<BaselineSymbol> wide{{r, r, ten, 1}, {r, r, ten, 1}};
  refused({{1}, 0.5, 0.0, 252.0, 1, 0, 21}, wide, "21 portfolio times");
}

}  // namespace
}  // namespace gs
