// VolatilityRegime: ATR(14) against the 50-bar average true range decides the regime.
#include "agent_util.hpp"
#include "goldensignals/agents/builtin.hpp"

namespace gs {

using namespace agents_detail;

namespace {
constexpr std::size_t kBase = 50;  // bars in the baseline average true range
constexpr double kCalm = 1.2;      // ATR / baseline below this: calm
constexpr double kSpike = 1.5;     // at or above this: a volatility spike
}  // namespace

VolatilityRegime::VolatilityRegime(AgentSpec spec) : Agent(std::move(spec)) {}

AgentSpec VolatilityRegime::default_spec() {
  return {"VolatilityRegime", kBuiltinWeight, kBuiltinTimeout, AgentKind::Native};
}

std::optional<Vote> VolatilityRegime::analyze(const AgentContext& ctx) const {
  const auto& iv = ctx.indicators();
  const auto& m = *ctx.market;
  const std::size_t n = m.close.size();
  const double p = ctx.price();
  if (n < kBase + 1 || !all_defined({iv.atr_14, iv.sma_20, iv.sma_50, p}) || !(p > 0.0) ||
      !(iv.atr_14 > 0.0)) {
    return std::nullopt;
  }
  double tr_sum = 0.0;
  for (std::size_t i = n - kBase; i < n; ++i) {
    const double pc = m.close[i - 1];
    tr_sum +=
        std::max(m.high[i] - m.low[i], std::max(std::abs(m.high[i] - pc), std::abs(m.low[i] - pc)));
  }
  const double base = tr_sum / static_cast<double>(kBase);
  if (!(base > 0.0)) return std::nullopt;  // no range at all: no regime to judge
  const double ratio = iv.atr_14 / base;
  const double atr_pct = iv.atr_14 / p * 100.0;
  const double r5 = pct(m.close[n - 1], m.close[n - 6]);

  // The first line, the same on every path.
  const auto range = [atr = iv.atr_14, atr_pct, ratio, base] {
    return say("ATR(14) ", fx(atr, 2), " (", fx(atr_pct, 2), "% of price) is ", fx(ratio, 2),
               "x the 50-bar average true range ", fx(base, 2));
  };
  if (ratio >= kSpike) {
    // A fall of more than one ATR in 5 bars makes the spike a downside one.
    if (r5 < -atr_pct) {
      const double conf = 0.45 + 0.3 * std::min(1.0, (ratio - kSpike) / kSpike);
      return make_vote(Action::Sell, conf, Reasoning::later([range, r5] {
                         return lines_of(
                             range(),
                             say("volatility spike with 5-bar return ", sfx(r5, 2), "%: downside"),
                             std::string("sell into a downside volatility spike"));
                       }));
    }
    return make_vote(Action::Hold, 0.55, Reasoning::later([range, r5] {
                       return lines_of(range(), say("volatility spike with 5-bar return ",
                                                    sfx(r5, 2), "%: stand aside"));
                     }));
  }
  const bool calm = ratio < kCalm;
  // A trend needs price half an ATR beyond SMA50 and SMA20 a quarter ATR beyond it, same side.
  const double a = iv.atr_14;
  const double ps = side(p - iv.sma_50, 0.5 * a);
  const int trend = ps == side(iv.sma_20 - iv.sma_50, 0.25 * a) ? static_cast<int>(ps) : 0;
  Action action = Action::Hold;
  double conf = 0.4;
  if (trend != 0) {
    // Strength: distance from SMA50 in units of 3 ATR, full at 3 ATR.
    const double strength = std::min(1.0, std::abs(p - iv.sma_50) / (3.0 * a));
    action = trend > 0 ? Action::Buy : Action::Sell;
    conf = (0.4 + 0.45 * strength) * (calm ? 1.0 : 0.8);
  }
  return make_vote(
      action, conf, Reasoning::later([range, calm, p, sma20 = iv.sma_20, sma50 = iv.sma_50, trend] {
        return lines_of(range(),
                        say(calm ? "calm regime" : "normal regime", "; price ", fx(p, 2),
                            ", SMA20 ", fx(sma20, 2), ", SMA50 ", fx(sma50, 2)),
                        std::string(trend == 0  ? "no clear trend to follow"
                                    : trend > 0 ? "follow the uptrend"
                                                : "follow the downtrend"));
      }));
}

}  // namespace gs
