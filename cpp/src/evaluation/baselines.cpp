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
    if (len < 1) {
      throw InvalidArgument("random trades: holding length " + std::to_string(len) +
                            " is not accepted; expected bars >= 1");
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
  for (std::size_t s = 0; s < symbols.size(); ++s) {
    const auto& sym = symbols[s];
    const auto n = sym.close_to_close.size();
    if (sym.open_to_close.size() != n || (symbols.size() > 1 && sym.slot.size() != n)) {
      throw InvalidArgument("random trades: symbol " + std::to_string(s) +
                            " has returns, open-to-close returns and slots of different "
                            "lengths; expected one of each per bar");
    }
    if (symbols.size() > 1) {
      for (auto t : sym.slot) {
        if (t < 0 || static_cast<std::size_t>(t) >= times) {
          throw InvalidArgument("random trades: slot " + std::to_string(t) + " of symbol " +
                                std::to_string(s) + " is outside the " + std::to_string(times) +
                                " portfolio times");
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
  const double scale = std::ldexp(1.0, -e);  // a power of two: each product is exact
  double sum = 0.0;
  for (double x : r) sum += x * scale;
  const double mean = sum / static_cast<double>(r.size());
  double ss = 0.0;
  for (double x : r) {
    const double d = x * scale - mean;
    ss += d * d;
  }
  const double sd = std::sqrt(ss / static_cast<double>(r.size() - 1));
  return mean / sd * std::sqrt(periods_per_year);
}

std::vector<double> random_trade_sharpes(std::span<const BaselineSymbol> symbols,
                                         const RandomTradeOptions& opts) {
  std::vector<double> out;
  out.reserve(opts.draws);
  for_each_random_trade_draw(symbols, opts, [&](std::span<const double> panel) {
    out.push_back(sharpe_ratio(panel, opts.periods_per_year));
  });
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
  std::vector<double> panel(times), ret;
  std::vector<std::int64_t> lens;
  std::vector<std::uint8_t> taken;
  const auto pool = static_cast<std::uint64_t>(opts.lengths.size());
  for (std::size_t d = 0; d < opts.draws; ++d) {
    std::fill(panel.begin(), panel.end(), 0.0);
    for (const auto& sym : symbols) {
      const auto n = static_cast<std::int64_t>(sym.close_to_close.size());
      ret.assign(static_cast<std::size_t>(n), 0.0);
      auto k = static_cast<std::int64_t>(sym.trades);
      if (k > 0 && n > 0 && pool > 0) {
        lens.resize(static_cast<std::size_t>(k));
        for (auto& len : lens) len = opts.lengths[rng.below(pool)];
        std::int64_t held = std::accumulate(lens.begin(), lens.end(), std::int64_t{0});
        if (held > n) {  // too many to fit: fewer trades, in proportion, less one
          k = std::max<std::int64_t>(1, k * n / held - 1);
          lens.resize(static_cast<std::size_t>(k));
          lens[0] = std::min(lens[0], n);
          held = std::accumulate(lens.begin(), lens.end(), std::int64_t{0});
          while (held > n) held -= lens[static_cast<std::size_t>(--k)];
          lens.resize(static_cast<std::size_t>(k));
        }
        // k distinct slots among free + k (Floyd's sampling); slot j, in order, starts after
        // the j trades before it and the free bars the slot number leaves.
        const auto places = static_cast<std::uint64_t>(n - held + k);
        taken.assign(places, 0);
        for (auto j = places - static_cast<std::uint64_t>(k); j < places; ++j) {
          const auto t = rng.below(j + 1);
          taken[taken[t] ? j : t] = 1;
        }
        std::int64_t j = 0, before = 0;
        const double* cc = sym.close_to_close.data();
        for (std::uint64_t p = 0; p < places; ++p) {
          if (!taken[p]) continue;
          const std::int64_t start = static_cast<std::int64_t>(p) - j + before;
          const std::int64_t end = start + lens[static_cast<std::size_t>(j)] - 1;
          const double side = rng.unit() < opts.buy_share ? 1.0 : -1.0;
          for (auto t = start + 1; t <= end; ++t) ret[static_cast<std::size_t>(t)] = side * cc[t];
          ret[static_cast<std::size_t>(start)] =
              side * sym.open_to_close[static_cast<std::size_t>(start)] - opts.cost;
          ret[static_cast<std::size_t>(end)] -= opts.cost;
          before += lens[static_cast<std::size_t>(j)];
          ++j;
        }
      }
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
