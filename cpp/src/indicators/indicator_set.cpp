#include "goldensignals/indicators/indicator_set.hpp"

#include <cmath>
#include <string>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs::ind {

const std::array<IndicatorValues::Field, 16>& IndicatorValues::fields() noexcept {
  using V = IndicatorValues;
  static const std::array<Field, 16> all{{
      {"sma_20", &V::sma_20},
      {"sma_50", &V::sma_50},
      {"ema_12", &V::ema_12},
      {"ema_26", &V::ema_26},
      {"rsi_14", &V::rsi_14},
      {"macd", &V::macd},
      {"macd_signal", &V::macd_signal},
      {"macd_hist", &V::macd_hist},
      {"bb_upper", &V::bb_upper},
      {"bb_middle", &V::bb_middle},
      {"bb_lower", &V::bb_lower},
      {"atr_14", &V::atr_14},
      {"roc_10", &V::roc_10},
      {"obv", &V::obv},
      {"volume_sma_20", &V::volume_sma_20},
      {"volume_ratio", &V::volume_ratio},
  }};
  return all;
}

std::vector<std::pair<std::string_view, double>> IndicatorValues::defined() const {
  std::vector<std::pair<std::string_view, double>> out;
  out.reserve(fields().size());
  for (const auto& [name, member] : fields()) {
    if (!std::isnan(this->*member)) out.emplace_back(name, this->*member);
  }
  return out;
}

IndicatorSet::IndicatorSet() = default;

const IndicatorValues& IndicatorSet::update(const Bar& bar) {
  // Check the whole bar first: a throw half-way would leave the members out of step.
  const std::pair<const char*, double> fields[] = {{"open", bar.open},
                                                   {"high", bar.high},
                                                   {"low", bar.low},
                                                   {"close", bar.close},
                                                   {"volume", bar.volume}};
  for (const auto& [name, v] : fields) {
    if (!std::isfinite(v)) {
      throw BadMarketData(std::string("indicators: bar ") + name + " " + fmt_num(v) +
                          " is not accepted; expected a finite number");
    }
  }
  const double c = bar.close;
  IndicatorValues& v = values_;
  v.sma_20 = sma20_.update(c);
  v.sma_50 = sma50_.update(c);
  v.ema_12 = ema12_.update(c);
  v.ema_26 = ema26_.update(c);
  v.rsi_14 = rsi14_.update(c);
  const auto m = macd_.update(c);
  v.macd = m.macd;
  v.macd_signal = m.signal;
  v.macd_hist = m.hist;
  const auto b = bb_.update(c);
  v.bb_upper = b.upper;
  v.bb_middle = b.middle;
  v.bb_lower = b.lower;
  v.atr_14 = atr14_.update(bar.high, bar.low, c);
  v.roc_10 = roc10_.update(c);
  v.obv = obv_.update(c, bar.volume);
  v.volume_sma_20 = vol_sma20_.update(bar.volume);
  v.volume_ratio = v.volume_sma_20 > 0.0 ? bar.volume / v.volume_sma_20 : kNaN;  // NaN > 0 is false
  return v;
}

}  // namespace gs::ind
