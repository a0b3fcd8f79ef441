#include "goldensignals/indicators/indicator_set.hpp"

#include <cmath>
#include <string>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs::ind {

std::vector<std::pair<std::string_view, double>> IndicatorValues::defined() const {
  const std::pair<std::string_view, double> all[] = {
      {"sma_20", sma_20},
      {"sma_50", sma_50},
      {"ema_12", ema_12},
      {"ema_26", ema_26},
      {"rsi_14", rsi_14},
      {"macd", macd},
      {"macd_signal", macd_signal},
      {"macd_hist", macd_hist},
      {"bb_upper", bb_upper},
      {"bb_middle", bb_middle},
      {"bb_lower", bb_lower},
      {"atr_14", atr_14},
      {"roc_10", roc_10},
      {"obv", obv},
      {"volume_sma_20", volume_sma_20},
      {"volume_ratio", volume_ratio},
  };
  std::vector<std::pair<std::string_view, double>> out;
  out.reserve(std::size(all));
  for (const auto& kv : all) {
    if (!std::isnan(kv.second)) out.push_back(kv);
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
