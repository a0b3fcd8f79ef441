// The indicators every symbol keeps up to date, bar by bar, and their current values.
#pragma once

#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "goldensignals/core/types.hpp"
#include "goldensignals/indicators/streaming.hpp"

namespace gs::ind {

// Current indicator values for one symbol; NaN while an indicator is in its lead-in.
struct IndicatorValues {
  double sma_20 = kNaN;
  double sma_50 = kNaN;
  double ema_12 = kNaN;
  double ema_26 = kNaN;
  double rsi_14 = kNaN;
  double macd = kNaN;
  double macd_signal = kNaN;
  double macd_hist = kNaN;
  double bb_upper = kNaN;  // Bollinger (20, 2, 2)
  double bb_middle = kNaN;
  double bb_lower = kNaN;
  double atr_14 = kNaN;
  double roc_10 = kNaN;
  double obv = kNaN;
  double volume_sma_20 = kNaN;
  double volume_ratio = kNaN;  // this bar's volume / volume_sma_20

  // (name, value) pairs of the defined (non-NaN) values, in a fixed order.
  [[nodiscard]] std::vector<std::pair<std::string_view, double>> defined() const;
  // Every indicator's name and member, in that order.
  using Field = std::pair<std::string_view, double IndicatorValues::*>;
  static const std::array<Field, 16>& fields() noexcept;
};

// Owns one streaming instance of each indicator above; O(1) per bar.
class IndicatorSet {
 public:
  IndicatorSet();
  const IndicatorValues& update(const Bar& bar);
  [[nodiscard]] const IndicatorValues& values() const noexcept { return values_; }

 private:
  Sma sma20_{20};
  Sma sma50_{50};
  Ema ema12_{12};
  Ema ema26_{26};
  Rsi rsi14_{14};
  Macd macd_{12, 26, 9};
  Bbands bb_{20, 2.0, 2.0};
  Atr atr14_{14};
  Roc roc10_{10};
  Obv obv_;
  Sma vol_sma20_{20};
  IndicatorValues values_;
};

}  // namespace gs::ind
