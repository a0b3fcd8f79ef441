// Streaming indicators. Updates follow TA-Lib's operation order where that is known, so most
// outputs equal TA-Lib's bit for bit; the rest (ATR, MACD signal, BBANDS width) agree to ~1e-13.
#include "goldensignals/indicators/streaming.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "checks.hpp"

namespace gs::ind {
namespace {

using detail::check_finite_param;
using detail::check_input;
using detail::check_period;

// TA-Lib's PER_TO_K.
double per_to_k(int period) { return 2.0 / static_cast<double>(period + 1); }

// One EMA step, in TA-Lib's operation order.
double ema_step(double prev, double x, double k) { return ((x - prev) * k) + prev; }

// Wilder smoothing step for ATR, in TA-Lib's classic operation order (multiply, add, divide).
double wilder_step(double prev, double x, int period) {
  prev *= static_cast<double>(period - 1);
  prev += x;
  return prev / static_cast<double>(period);
}

}  // namespace

// --- SMA ------------------------------------------------------------------------------------
Sma::Sma(int period) : period_(period) {
  check_period("sma", "timeperiod", period, 2);
  window_.assign(static_cast<std::size_t>(period), 0.0);
}

double Sma::update(double x) {
  check_input("sma", "real", x);
  window_[pos_] = x;
  pos_ = pos_ + 1 == window_.size() ? 0 : pos_ + 1;
  sum_ += x;
  if (++count_ < window_.size()) return value_;
  value_ = sum_ / static_cast<double>(period_);
  sum_ -= window_[pos_];  // the oldest input leaves before the next one arrives, as in TA-Lib
  return value_;
}

// --- EMA ------------------------------------------------------------------------------------
Ema::Ema(int period) : period_(period), k_(per_to_k(period)) {
  check_period("ema", "timeperiod", period, 2);
}

double Ema::update(double x) {
  check_input("ema", "real", x);
  const auto n = static_cast<std::size_t>(period_);
  ++count_;
  if (count_ < n) {
    seed_sum_ += x;
  } else if (count_ == n) {
    seed_sum_ += x;
    value_ = seed_sum_ / static_cast<double>(period_);
  } else {
    value_ = ema_step(value_, x, k_);
  }
  return value_;
}

// --- RSI ------------------------------------------------------------------------------------
Rsi::Rsi(int period) : period_(period) { check_period("rsi", "timeperiod", period, 2); }

double Rsi::update(double close) {
  check_input("rsi", "real", close);
  const auto n = static_cast<std::size_t>(period_);
  ++count_;
  if (count_ == 1) {
    prev_ = close;
    return value_;
  }
  const double diff = close - prev_;
  prev_ = close;
  const double gain = diff < 0 ? 0.0 : diff;
  const double loss = diff < 0 ? -diff : 0.0;
  if (count_ <= n + 1) {  // the first `period` changes are summed, then averaged
    avg_gain_ += gain;
    avg_loss_ += loss;
    if (count_ <= n) return value_;
    // TA-Lib's RSI multiplies by 1/period where its ATR divides; matched to the last bit.
    const double inv = 1.0 / static_cast<double>(period_);
    avg_gain_ *= inv;
    avg_loss_ *= inv;
  } else {
    const double inv = 1.0 / static_cast<double>(period_);
    const double keep = static_cast<double>(period_ - 1);
    avg_gain_ = ((avg_gain_ * keep) + gain) * inv;
    avg_loss_ = ((avg_loss_ * keep) + loss) * inv;
  }
  const double total = avg_gain_ + avg_loss_;
  // A flat window is 0 in TA-Lib; older TA-Lib (< 0.6) also zeroed totals below 1e-8.
  value_ = total == 0.0 ? 0.0 : 100.0 * (avg_gain_ / total);
  return value_;
}

// --- MACD -----------------------------------------------------------------------------------
Macd::Macd(int fast, int slow, int signal) {
  check_period("macd", "fastperiod", fast, 2);
  check_period("macd", "slowperiod", slow, 2);
  check_period("macd", "signalperiod", signal, 1);
  if (slow < fast) std::swap(fast, slow);  // TA-Lib does this silently
  fast_ = fast;
  slow_ = slow;
  signal_ = signal;
  k_fast_ = per_to_k(fast);
  k_slow_ = per_to_k(slow);
  k_signal_ = per_to_k(signal);
}

Macd::Out Macd::update(double close) {
  check_input("macd", "real", close);
  const auto slow = static_cast<std::size_t>(slow_);
  const auto fast = static_cast<std::size_t>(fast_);
  const auto signal = static_cast<std::size_t>(signal_);
  ++count_;
  if (count_ <= slow) {
    // TA-Lib starts both EMAs at index slow-1: the fast one from the mean of its last `fast`.
    slow_sum_ += close;
    if (count_ > slow - fast) fast_sum_ += close;
    if (count_ < slow) return value_;
    slow_ema_ = slow_sum_ / static_cast<double>(slow_);
    fast_ema_ = fast_sum_ / static_cast<double>(fast_);
  } else {
    slow_ema_ = ema_step(slow_ema_, close, k_slow_);
    fast_ema_ = ema_step(fast_ema_, close, k_fast_);
  }
  const double line = fast_ema_ - slow_ema_;
  const std::size_t m = count_ - slow + 1;  // how many macd values exist so far
  if (m < signal) {
    macd_sum_ += line;
    return value_;
  }
  if (m == signal) {
    macd_sum_ += line;
    signal_ema_ = macd_sum_ / static_cast<double>(signal_);
  } else {
    signal_ema_ = ema_step(signal_ema_, line, k_signal_);
  }
  value_ = {line, signal_ema_, line - signal_ema_};
  return value_;
}

// --- BBANDS ---------------------------------------------------------------------------------
Bbands::Bbands(int period, double nbdev_up, double nbdev_dn)
    : period_(period), up_(nbdev_up), dn_(nbdev_dn) {
  check_period("bbands", "timeperiod", period, 2);
  check_finite_param("bbands", "nbdevup", nbdev_up);
  check_finite_param("bbands", "nbdevdn", nbdev_dn);
  window_.assign(static_cast<std::size_t>(period), 0.0);
}

Bbands::Out Bbands::update(double x) {
  check_input("bbands", "real", x);
  const double old = window_[pos_];  // the input leaving the window once it is full
  window_[pos_] = x;
  pos_ = pos_ + 1 == window_.size() ? 0 : pos_ + 1;
  sum_ += x;
  ++count_;
  // Variance by Welford's update, sliding once the window is full: E[x^2] - E[x]^2 loses
  // ~1e-8 to cancellation, while TA-Lib (>= 0.6) is accurate to ~1e-13.
  if (count_ <= window_.size()) {
    const double d = x - mean_;
    mean_ += d / static_cast<double>(count_);
    m2_ += d * (x - mean_);
  } else {
    const double prev_mean = mean_;
    mean_ += (x - old) / static_cast<double>(period_);
    m2_ += (x - old) * ((x - mean_) + (old - prev_mean));
  }
  run_ = x == last_ ? run_ + 1 : 1;
  last_ = x;
  if (run_ >= window_.size()) {  // constant window: drop the rounding Welford carries
    mean_ = x;
    m2_ = 0.0;
  }
  if (count_ < window_.size()) return value_;
  const double middle = sum_ / static_cast<double>(period_);
  sum_ -= window_[pos_];  // as in Sma::update
  const double var = m2_ / static_cast<double>(period_);
  const double sd = var > 0.0 ? std::sqrt(var) : 0.0;  // rounding may leave m2 just below 0
  value_ = {middle + (sd * up_), middle, middle - (sd * dn_)};
  return value_;
}

// --- ATR ------------------------------------------------------------------------------------
Atr::Atr(int period) : period_(period) { check_period("atr", "timeperiod", period, 1); }

double Atr::update(double high, double low, double close) {
  check_input("atr", "high", high);
  check_input("atr", "low", low);
  check_input("atr", "close", close);
  const auto n = static_cast<std::size_t>(period_);
  ++count_;
  const double prev_close = std::exchange(prev_close_, close);
  if (count_ == 1) return value_;  // the true range needs the previous close
  double tr = high - low;
  tr = std::max(tr, std::fabs(prev_close - high));
  tr = std::max(tr, std::fabs(prev_close - low));
  if (count_ <= n) {
    tr_sum_ += tr;
  } else if (count_ == n + 1) {
    tr_sum_ += tr;
    value_ = tr_sum_ / static_cast<double>(period_);
  } else {
    value_ = wilder_step(value_, tr, period_);
  }
  return value_;
}

// --- ROC ------------------------------------------------------------------------------------
Roc::Roc(int period) : period_(period) {
  check_period("roc", "timeperiod", period, 1);
  window_.assign(static_cast<std::size_t>(period), 0.0);
}

double Roc::update(double x) {
  check_input("roc", "real", x);
  const double old = window_[pos_];  // x[n - period] once the ring is full
  window_[pos_] = x;
  pos_ = pos_ + 1 == window_.size() ? 0 : pos_ + 1;
  if (++count_ <= window_.size()) return value_;
  value_ = old != 0.0 ? ((x / old) - 1.0) * 100.0 : 0.0;  // TA-Lib gives 0 for a zero base
  return value_;
}

// --- OBV ------------------------------------------------------------------------------------
double Obv::update(double close, double volume) {
  check_input("obv", "real", close);
  check_input("obv", "volume", volume);
  if (count_++ == 0) {
    value_ = volume;
  } else if (close > prev_close_) {
    value_ += volume;
  } else if (close < prev_close_) {
    value_ -= volume;
  }
  prev_close_ = close;
  return value_;
}

}  // namespace gs::ind
