// The backtest's random-signal baseline, natively: many draws of random trades shaped like the
// ones a strategy took, each followed bar by bar and summarized by its Sharpe ratio, without
// materializing a draws x bars matrix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace gs {

// One symbol's bars, in time order.
struct BaselineSymbol {
  std::span<const double> close_to_close;  // close / previous close - 1 (the first bar: / open)
  std::span<const double> open_to_close;   // close / open - 1
  // Where each bar goes in the portfolio's time axis (size of the spans above); empty when
  // the portfolio is this one symbol.
  std::span<const std::int64_t> slot;
  std::size_t trades = 0;  // random trades per draw on this symbol
};

struct RandomTradeOptions {
  std::vector<std::int64_t> lengths;  // holding lengths (bars) to draw from, each >= 1
  double buy_share = 0.5;             // share of BUYs among the trades
  double cost = 0.0;                  // per side, as a fraction
  double periods_per_year = 252.0;
  std::size_t draws = 200;
  std::uint64_t seed = 0;
  std::size_t times = 0;  // length of the portfolio's time axis when there are several symbols
  void validate(std::span<const BaselineSymbol> symbols) const;  // throws InvalidArgument
};

// Annualized Sharpe ratio mean / sd(ddof 1) * sqrt(periods_per_year); NaN for fewer than two
// returns or when all are equal. Each input is scaled by a power of two first (exact), so
// returns near the limits of a double neither overflow nor underflow.
double sharpe_ratio(std::span<const double> returns, double periods_per_year);

// The Sharpe ratio of each draw. A draw puts `trades` trades on each symbol, at random bars
// that do not overlap, each held a length drawn from `lengths` (if they do not fit, fewer
// trades: the count scaled to the bars, less one), BUY with probability `buy_share`. A trade
// enters at its first bar's open and exits at its last bar's close, earning side x the bar's
// return in between and paying `cost` on each side. Symbols are equally weighted per time
// (the mean of the symbols that have a bar then). The draws depend only on `seed`
// (a 64-bit Mersenne Twister, the same on every platform).
std::vector<double> random_trade_sharpes(std::span<const BaselineSymbol> symbols,
                                         const RandomTradeOptions& opts);

// The same draws, each handed over as its per-time portfolio returns (valid during the call).
void for_each_random_trade_draw(std::span<const BaselineSymbol> symbols,
                                const RandomTradeOptions& opts,
                                const std::function<void(std::span<const double>)>& each);

}  // namespace gs
