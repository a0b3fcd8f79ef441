#include "goldensignals/evaluation/baselines.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Longer than any data; small enough that the lengths of a draw's trades sum without overflow.
constexpr std::int64_t kMaxLength = std::int64_t{1} << 31;

// Draws from a 64-bit Mersenne Twister, whose output the C++ standard fixes; the mapping to
// integers and reals is done here, as the standard's distributions differ between libraries.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : gen_(seed) {}
  // Uniform on [0, n), n >= 1: the lowest 2^64 mod n outputs are rejected, so that what
  // remains is a whole number of copies of [0, n).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t floor = (0 - n) % n;
    std::uint64_t x = gen_();
    while (x < floor) x = gen_();
    return x % n;
  }
  double unit() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }  // [0, 1)

 private:
  std::mt19937_64 gen_;
};

}  // namespace

void RandomTradeOptions::validate(std::span<const BaselineSymbol> symbols) const {
  for (auto len : lengths) {
    if (len < 1 || len > kMaxLength) {
      throw InvalidArgument("random trades: holding length " + std::to_string(len) +
                            " is not accepted; expected bars from 1 to " +
                            std::to_string(kMaxLength));
    }
  }
  if (!(buy_share >= 0.0 && buy_share <= 1.0)) {
    throw InvalidArgument("random trades: buy share " + fmt_num(buy_share) +
                          " is not accepted; expected a share from 0 to 1");
  }
  if (!std::isfinite(cost) || cost < 0.0 || cost > 1.0) {
    throw InvalidArgument("random trades: cost " + fmt_num(cost) +
                          " is not accepted; expected a fraction per side from 0 to 1");
  }
  if (!std::isfinite(periods_per_year) || periods_per_year <= 0.0) {
    throw InvalidArgument("random trades: periods per year " + fmt_num(periods_per_year) +
                          " is not accepted; expected a finite number > 0");
  }
  if (draws > 1'000'000) {
    throw InvalidArgument("random trades: " + std::to_string(draws) +
                          " draws are not accepted; expected at most 1000000");
  }
  std::size_t bars = 0;
  for (std::size_t s = 0; s < symbols.size(); ++s) {
    const auto& sym = symbols[s];
    const auto n = sym.close_to_close.size();
    const std::string which = "random trades: symbol " + std::to_string(s);
    bars += n;
    if (sym.open_to_close.size() != n || (symbols.size() > 1 && sym.slot.size() != n)) {
      throw InvalidArgument(which + " has " + std::to_string(n) + " returns, " +
                            std::to_string(sym.open_to_close.size()) +
                            " open-to-close returns and " + std::to_string(sym.slot.size()) +
                            " slots; expected one of each per bar");
    }
    if (sym.trades > n) {
      throw InvalidArgument(which + ": " + std::to_string(sym.trades) +
                            " trades are not accepted; expected at most its " + std::to_string(n) +
                            " bars");
    }
    for (std::size_t t = 0; t < n; ++t) {
      for (double x : {sym.close_to_close[t], sym.open_to_close[t]}) {
        if (!std::isfinite(x)) {
          throw InvalidArgument(which + ": the return of bar " + std::to_string(t) + " is " +
                                fmt_num(x) + "; expected a finite number");
        }
      }
    }
  }
  if (symbols.size() > 1) {
    if (times > bars) {
      throw InvalidArgument("random trades: " + std::to_string(times) +
                            " portfolio times are not accepted; expected at most the " +
                            std::to_string(bars) + " bars given");
    }
    for (std::size_t s = 0; s < symbols.size(); ++s) {
      for (auto t : symbols[s].slot) {
        if (t < 0 || static_cast<std::size_t>(t) >= times) {
          throw InvalidArgument("random trades: slot " + std::to_string(t) + " of symbol " +
                                std::to_string(s) + " is not accepted; expected 0 to " +
                                std::to_string(static_cast<std::int64_t>(times) - 1));
        }
      }
    }
  }
}

double sharpe_ratio(std::span<const double> r, double periods_per_year) {
  if (r.size() < 2) return kNaN;
  const auto [lo, hi] = std::minmax_element(r.begin(), r.end());
  if (*lo == *hi || !std::isfinite(*lo) || !std::isfinite(*hi)) return kNaN;
  int e = 0;
  std::frexp(std::max(std::fabs(*lo), std::fabs(*hi)), &e);
  // Two powers of two, each finite even when the returns are subnormal; the products are exact.
  const double up = std::ldexp(1.0, -e / 2), rest = std::ldexp(1.0, -e - (-e / 2));
  double sum = 0.0;
  for (double x : r) sum += x * up * rest;
  const double mean = sum / static_cast<double>(r.size());
  double ss = 0.0;
  for (double x : r) {
    const double d = x * up * rest - mean;
    ss += d * d;
  }
  const double sd = std::sqrt(ss / static_cast<double>(r.size() - 1));
  return mean / sd * std::sqrt(periods_per_year);
}

namespace {

// Draws one symbol's random trades for one draw and hands each to visit(start, end, side), in
// order (bars [start, end], side +1 or -1). The generator is asked for every length first,
// then for the slots, then for each side as its trade is visited.
class TradeDrawer {
 public:
  TradeDrawer(const RandomTradeOptions& opts, Draw& rng) : opts_(opts), rng_(rng) {}

  template <class Visit>
  void draw(std::int64_t n, std::int64_t k, Visit&& visit) {
    const auto pool = static_cast<std::uint64_t>(opts_.lengths.size());
    if (k <= 0 || n <= 0 || pool == 0) return;
    lens_.resize(static_cast<std::size_t>(k));
    for (auto& len : lens_) len = opts_.lengths[rng_.below(pool)];
    std::int64_t held = std::accumulate(lens_.begin(), lens_.end(), std::int64_t{0});
    if (held > n) {  // too many to fit: fewer trades, in proportion, less one
      k = std::max<std::int64_t>(1, k * n / held - 1);
      lens_.resize(static_cast<std::size_t>(k));
      lens_[0] = std::min(lens_[0], n);
      held = std::accumulate(lens_.begin(), lens_.end(), std::int64_t{0});
      while (held > n) held -= lens_[static_cast<std::size_t>(--k)];
      lens_.resize(static_cast<std::size_t>(k));
    }
    // k distinct slots among free + k (Floyd's sampling); slot j, in order, starts after
    // the j trades before it and the free bars the slot number leaves.
    const auto places = static_cast<std::uint64_t>(n - held + k);
    taken_.assign(places, 0);
    for (auto j = places - static_cast<std::uint64_t>(k); j < places; ++j) {
      const auto t = rng_.below(j + 1);
      taken_[taken_[t] ? j : t] = 1;
    }
    std::int64_t j = 0, before = 0;
    for (std::uint64_t p = 0; p < places; ++p) {
      if (!taken_[p]) continue;
      const auto len = lens_[static_cast<std::size_t>(j)];
      const std::int64_t start = static_cast<std::int64_t>(p) - j + before;
      visit(start, start + len - 1, rng_.unit() < opts_.buy_share ? 1.0 : -1.0);
      before += len;
      ++j;
    }
  }

 private:
  const RandomTradeOptions& opts_;
  Draw& rng_;
  std::vector<std::int64_t> lens_;
  std::vector<std::uint8_t> taken_;
};

}  // namespace

std::vector<double> random_trade_sharpes(std::span<const BaselineSymbol> symbols,
                                         const RandomTradeOptions& opts) {
  std::vector<double> out;
  out.reserve(opts.draws);
  if (symbols.size() != 1) {
    for_each_random_trade_draw(symbols, opts, [&](std::span<const double> panel) {
      out.push_back(sharpe_ratio(panel, opts.periods_per_year));
    });
    return out;
  }
  // One symbol: the bars outside the trades return 0, so each draw's sums come from its
  // trades alone, each in O(1) from running sums of the bars' returns and their squares.
  opts.validate(symbols);
  const auto& sym = symbols[0];
  const std::size_t n = sym.close_to_close.size();
  const double* cc = sym.close_to_close.data();
  std::vector<double> sum(n + 1, 0.0), sumsq(n + 1, 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    sum[t + 1] = sum[t] + cc[t];
    sumsq[t + 1] = sumsq[t] + cc[t] * cc[t];
  }
  Draw rng(opts.seed);
  TradeDrawer drawer(opts, rng);
  const double c = opts.cost;
  for (std::size_t d = 0; d < opts.draws; ++d) {
    double s = 0.0, ss = 0.0;
    std::size_t trades = 0;
    drawer.draw(static_cast<std::int64_t>(n), static_cast<std::int64_t>(sym.trades),
                [&](std::int64_t start, std::int64_t end, double side) {
                  const auto a = static_cast<std::size_t>(start);
                  const auto b = static_cast<std::size_t>(end);
                  ++trades;
                  double first = side * sym.open_to_close[a] - c;
                  if (a == b) {
                    first -= c;
                  } else {
                    const double last = side * cc[b] - c;
                    s += last + side * (sum[b] - sum[a + 1]);
                    ss += last * last + (sumsq[b] - sumsq[a + 1]);
                  }
                  s += first;
                  ss += first * first;
                });
    const double len = static_cast<double>(n);
    const double var = (ss - s * s / len) / (len - 1.0);
    out.push_back(trades == 0 || n < 2 || !(var > 0.0)
                      ? kNaN
                      : s / len / std::sqrt(var) * std::sqrt(opts.periods_per_year));
  }
  return out;
}

void for_each_random_trade_draw(std::span<const BaselineSymbol> symbols,
                                const RandomTradeOptions& opts,
                                const std::function<void(std::span<const double>)>& each) {
  opts.validate(symbols);
  if (symbols.empty()) {
    for (std::size_t d = 0; d < opts.draws; ++d) each({});
    return;
  }
  const bool one = symbols.size() == 1;
  const std::size_t times = one ? symbols[0].close_to_close.size() : opts.times;
  std::vector<double> count(times, 0.0);
  if (!one) {
    for (const auto& sym : symbols) {
      for (auto t : sym.slot) count[static_cast<std::size_t>(t)] += 1.0;
    }
  }
  Draw rng(opts.seed);
  TradeDrawer drawer(opts, rng);
  std::vector<double> panel(times), ret;
  for (std::size_t d = 0; d < opts.draws; ++d) {
    std::fill(panel.begin(), panel.end(), 0.0);
    for (const auto& sym : symbols) {
      const double* cc = sym.close_to_close.data();
      ret.assign(sym.close_to_close.size(), 0.0);
      drawer.draw(static_cast<std::int64_t>(ret.size()), static_cast<std::int64_t>(sym.trades),
                  [&](std::int64_t start, std::int64_t end, double side) {
                    for (auto t = start + 1; t <= end; ++t) {
                      ret[static_cast<std::size_t>(t)] = side * cc[t];
                    }
                    ret[static_cast<std::size_t>(start)] =
                        side * sym.open_to_close[static_cast<std::size_t>(start)] - opts.cost;
                    ret[static_cast<std::size_t>(end)] -= opts.cost;
                  });
      if (one) {
        panel.swap(ret);
      } else {
        for (std::size_t t = 0; t < ret.size(); ++t) {
          panel[static_cast<std::size_t>(sym.slot[t])] += ret[t];
        }
      }
    }
    if (!one) {
      for (std::size_t t = 0; t < times; ++t) {
        if (count[t] > 0) panel[t] /= count[t];
      }
    }
    each(panel);
  }
}

}  // namespace gs
