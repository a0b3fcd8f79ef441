// Streaming indicators: O(1) per update, the same numbers as TA-Lib on the same input.
// Each update returns NaN during the indicator's lead-in (TA-Lib's lookback), exactly as
// TA-Lib's batch output has NaN there.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

namespace gs::ind {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Simple moving average (TA-Lib SMA).
class Sma {
 public:
  explicit Sma(int period = 30);
  double update(double x);
  [[nodiscard]] double value() const noexcept { return value_; }
  [[nodiscard]] int period() const noexcept { return period_; }

 private:
  int period_;
  std::vector<double> window_;  // the last `period` inputs, a ring; pos_ is the oldest
  std::size_t pos_ = 0;
  std::size_t count_ = 0;
  double sum_ = 0.0;
  double value_ = kNaN;
};

// Exponential moving average, seeded with the SMA of the first `period` inputs (TA-Lib EMA).
class Ema {
 public:
  explicit Ema(int period = 30);
  double update(double x);
  [[nodiscard]] double value() const noexcept { return value_; }

 private:
  int period_;
  double k_;
  std::size_t count_ = 0;
  double seed_sum_ = 0.0;
  double value_ = kNaN;
};

// Relative strength index with Wilder smoothing (TA-Lib RSI).
class Rsi {
 public:
  explicit Rsi(int period = 14);
  double update(double close);
  [[nodiscard]] double value() const noexcept { return value_; }

 private:
  int period_;
  std::size_t count_ = 0;
  double prev_ = kNaN;
  double avg_gain_ = 0.0;
  double avg_loss_ = 0.0;
  double value_ = kNaN;
};

// MACD (TA-Lib MACD): macd line, signal line, histogram. Like TA-Lib, fast > slow swaps them.
class Macd {
 public:
  struct Out {
    double macd = kNaN;
    double signal = kNaN;
    double hist = kNaN;
  };
  explicit Macd(int fast = 12, int slow = 26, int signal = 9);
  Out update(double close);
  [[nodiscard]] Out value() const noexcept { return value_; }

 private:
  int fast_;
  int slow_;
  int signal_;
  double k_fast_;
  double k_slow_;
  double k_signal_;
  std::size_t count_ = 0;
  double fast_sum_ = 0.0;  // sum of closes [slow - fast, slow): the fast EMA's seed, as TA-Lib
  double slow_sum_ = 0.0;  // sum of the first `slow` closes: the slow EMA's seed
  double fast_ema_ = kNaN;
  double slow_ema_ = kNaN;
  double macd_sum_ = 0.0;  // sum of the first `signal` macd values: the signal EMA's seed
  double signal_ema_ = kNaN;
  Out value_{};
};

// Bollinger bands (TA-Lib BBANDS with SMA middle band and population standard deviation).
class Bbands {
 public:
  struct Out {
    double upper = kNaN;
    double middle = kNaN;
    double lower = kNaN;
  };
  explicit Bbands(int period = 5, double nbdev_up = 2.0, double nbdev_dn = 2.0);
  Out update(double x);
  [[nodiscard]] Out value() const noexcept { return value_; }

 private:
  int period_;
  double up_;
  double dn_;
  std::vector<double> window_;  // the last `period` inputs, a ring; pos_ is the oldest
  std::size_t pos_ = 0;
  std::size_t count_ = 0;
  double sum_ = 0.0;   // running sum for the middle band, exactly as TA-Lib's SMA
  double mean_ = 0.0;  // Welford window mean and sum of squared deviations for the variance
  double m2_ = 0.0;
  double last_ = kNaN;   // the previous input and how many inputs in a row have equaled it:
  std::size_t run_ = 0;  // a constant window must give exactly 0, as TA-Lib does
  Out value_{};
};

// Average true range with Wilder smoothing (TA-Lib ATR).
class Atr {
 public:
  explicit Atr(int period = 14);
  double update(double high, double low, double close);
  [[nodiscard]] double value() const noexcept { return value_; }

 private:
  int period_;
  std::size_t count_ = 0;
  double prev_close_ = kNaN;
  double tr_sum_ = 0.0;
  double value_ = kNaN;
};

// Rate of change in percent (TA-Lib ROC): ((x / x[n - period]) - 1) * 100.
class Roc {
 public:
  explicit Roc(int period = 10);
  double update(double x);
  [[nodiscard]] double value() const noexcept { return value_; }

 private:
  int period_;
  std::vector<double> window_;  // the last `period` inputs, a ring; pos_ is the oldest
  std::size_t pos_ = 0;
  std::size_t count_ = 0;
  double value_ = kNaN;
};

// On-balance volume (TA-Lib OBV); defined from the first input.
class Obv {
 public:
  double update(double close, double volume);
  [[nodiscard]] double value() const noexcept { return value_; }

 private:
  std::size_t count_ = 0;
  double prev_close_ = kNaN;
  double value_ = kNaN;
};

}  // namespace gs::ind
