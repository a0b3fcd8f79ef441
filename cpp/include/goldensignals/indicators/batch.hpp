// Batch indicators over whole series. Each runs the streaming class over the input, so batch
// and streaming give the same numbers by construction. Outputs have the input's length with
// NaN in the lead-in, like TA-Lib's Python wrapper. Invalid parameters throw gs::InvalidArgument.
#pragma once

#include <span>
#include <vector>

namespace gs::ind {

std::vector<double> sma(std::span<const double> x, int period = 30);
std::vector<double> ema(std::span<const double> x, int period = 30);
std::vector<double> rsi(std::span<const double> close, int period = 14);
struct MacdSeries {
  std::vector<double> macd, signal, hist;
};
MacdSeries macd(std::span<const double> close, int fast = 12, int slow = 26, int signal = 9);
struct BbandsSeries {
  std::vector<double> upper, middle, lower;
};
BbandsSeries bbands(std::span<const double> x, int period = 20, double nbdev_up = 2.0,
                    double nbdev_dn = 2.0);
std::vector<double> atr(std::span<const double> high, std::span<const double> low,
                        std::span<const double> close, int period = 14);
std::vector<double> roc(std::span<const double> x, int period = 10);
std::vector<double> obv(std::span<const double> close, std::span<const double> volume);

}  // namespace gs::ind
