// Batch indicators: validate the whole input, then run the streaming class over it.
// Leading NaNs are skipped like TA-Lib's Python wrapper does; any later NaN or inf throws.
#include "goldensignals/indicators/batch.hpp"

#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/indicators/streaming.hpp"

namespace gs::ind {
namespace {

struct Input {
  const char* name;
  std::span<const double> x;
};

// Throws unless every input has the same length; returns it.
std::size_t common_length(const char* fn, std::initializer_list<Input> ins) {
  const std::size_t n = ins.begin()->x.size();
  bool same = true;
  for (const auto& in : ins) same = same && in.x.size() == n;
  if (same) return n;
  std::string names;
  std::string sizes;
  for (const auto& in : ins) {
    names += (names.empty() ? "" : ", ") + std::string(in.name);
    sizes += (sizes.empty() ? "" : ", ") + std::to_string(in.x.size());
  }
  throw InvalidArgument(std::string(fn) + ": inputs " + names +
                        " must have the same length; got lengths " + sizes);
}

// Index of the first position where no input is NaN (TA-Lib's wrapper starts there); checks
// that every value from there on is finite.
std::size_t first_valid(const char* fn, std::initializer_list<Input> ins) {
  const std::size_t n = common_length(fn, ins);
  std::size_t begin = 0;
  for (; begin < n; ++begin) {
    bool any_nan = false;
    for (const auto& in : ins) any_nan = any_nan || std::isnan(in.x[begin]);
    if (!any_nan) break;
  }
  for (const auto& in : ins) {
    for (std::size_t i = begin; i < n; ++i) {
      if (!std::isfinite(in.x[i])) {
        throw InvalidArgument(std::string(fn) + ": " + in.name + "[" + std::to_string(i) +
                              "] = " + fmt_num(in.x[i]) +
                              " is not accepted; expected finite values after the leading NaNs");
      }
    }
  }
  return begin;
}

// Runs a single-input, single-output streaming indicator over x.
template <class Ind>
std::vector<double> run1(const char* fn, std::span<const double> x, Ind ind) {
  const std::size_t begin = first_valid(fn, {{"real", x}});
  std::vector<double> out(x.size(), kNaN);
  for (std::size_t i = begin; i < x.size(); ++i) out[i] = ind.update(x[i]);
  return out;
}

}  // namespace

std::vector<double> sma(std::span<const double> x, int period) {
  return run1("sma", x, Sma(period));
}

std::vector<double> ema(std::span<const double> x, int period) {
  return run1("ema", x, Ema(period));
}

std::vector<double> rsi(std::span<const double> close, int period) {
  return run1("rsi", close, Rsi(period));
}

std::vector<double> roc(std::span<const double> x, int period) {
  return run1("roc", x, Roc(period));
}

MacdSeries macd(std::span<const double> close, int fast, int slow, int signal) {
  Macd ind(fast, slow, signal);
  const std::size_t begin = first_valid("macd", {{"real", close}});
  const std::size_t n = close.size();
  MacdSeries s{std::vector<double>(n, kNaN), std::vector<double>(n, kNaN),
               std::vector<double>(n, kNaN)};
  for (std::size_t i = begin; i < n; ++i) {
    const auto o = ind.update(close[i]);
    s.macd[i] = o.macd;
    s.signal[i] = o.signal;
    s.hist[i] = o.hist;
  }
  return s;
}

BbandsSeries bbands(std::span<const double> x, int period, double nbdev_up, double nbdev_dn) {
  Bbands ind(period, nbdev_up, nbdev_dn);
  const std::size_t begin = first_valid("bbands", {{"real", x}});
  const std::size_t n = x.size();
  BbandsSeries s{std::vector<double>(n, kNaN), std::vector<double>(n, kNaN),
                 std::vector<double>(n, kNaN)};
  for (std::size_t i = begin; i < n; ++i) {
    const auto o = ind.update(x[i]);
    s.upper[i] = o.upper;
    s.middle[i] = o.middle;
    s.lower[i] = o.lower;
  }
  return s;
}

std::vector<double> atr(std::span<const double> high, std::span<const double> low,
                        std::span<const double> close, int period) {
  Atr ind(period);
  const std::size_t begin = first_valid("atr", {{"high", high}, {"low", low}, {"close", close}});
  std::vector<double> out(close.size(), kNaN);
  for (std::size_t i = begin; i < close.size(); ++i) {
    out[i] = ind.update(high[i], low[i], close[i]);
  }
  return out;
}

std::vector<double> obv(std::span<const double> close, std::span<const double> volume) {
  Obv ind;
  const std::size_t begin = first_valid("obv", {{"real", close}, {"volume", volume}});
  std::vector<double> out(close.size(), kNaN);
  for (std::size_t i = begin; i < close.size(); ++i) out[i] = ind.update(close[i], volume[i]);
  return out;
}

}  // namespace gs::ind
