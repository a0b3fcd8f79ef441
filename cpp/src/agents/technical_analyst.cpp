// TechnicalAnalyst: scores RSI, MACD, moving-average trend and Bollinger position.
#include "agent_util.hpp"
#include "goldensignals/agents/builtin.hpp"

namespace gs {

using namespace agents_detail;

namespace {
// Largest possible |score|: RSI 1 + MACD 1.5 + trend 2 + Bollinger 0.5.
constexpr double kMaxScore = 5.0;
constexpr double kThreshold = 0.35;  // |score| / kMaxScore needed for BUY/SELL
}  // namespace

TechnicalAnalyst::TechnicalAnalyst(AgentSpec spec) : Agent(std::move(spec)) {}

AgentSpec TechnicalAnalyst::default_spec() {
  return {"TechnicalAnalyst", kBuiltinWeight, kBuiltinTimeout, AgentKind::Native};
}

std::optional<Vote> TechnicalAnalyst::analyze(const AgentContext& ctx) const {
  const auto& iv = ctx.indicators();
  const double p = ctx.price();
  if (!all_defined({iv.rsi_14, iv.macd, iv.macd_signal, iv.macd_hist, iv.sma_20, iv.sma_50,
                    iv.bb_upper, iv.bb_middle, iv.bb_lower, iv.atr_14, p})) {
    return std::nullopt;
  }
  double score = 0.0;
  if (iv.rsi_14 < 30.0) {
    score += 1.0;
  } else if (iv.rsi_14 > 70.0) {
    score -= 1.0;
  }
  // Differences smaller than a slice of ATR count as flat, so noise does not pass for a trend.
  const double a = iv.atr_14;
  const double macd_score = side(iv.macd_hist, 0.1 * a) * 0.5 + side(iv.macd, 0.2 * a) * 1.0;
  score += macd_score;
  const double trend = side(p - iv.sma_20, 0.25 * a) * 0.5 + side(p - iv.sma_50, 0.25 * a) * 0.5 +
                       side(iv.sma_20 - iv.sma_50, 0.5 * a) * 1.0;
  score += trend;
  if (p > iv.bb_upper) {
    score -= 0.5;
  } else if (p < iv.bb_lower) {
    score += 0.5;
  }
  const double lean = score / kMaxScore;

  return vote_from_lean(
      lean, kThreshold,
      Reasoning::later([rsi = iv.rsi_14, macd = iv.macd, macd_signal = iv.macd_signal,
                        macd_hist = iv.macd_hist, sma20 = iv.sma_20, sma50 = iv.sma_50,
                        upper = iv.bb_upper, lower = iv.bb_lower, p, macd_score, trend, score,
                        lean] {
        return lines_of(
            say("RSI(14) ", fx(rsi, 1),
                rsi < 30.0   ? " < 30: oversold"
                : rsi > 70.0 ? " > 70: overbought"
                             : ": neutral"),
            say("MACD ", fx(macd, 2), " vs signal ", fx(macd_signal, 2), ", histogram ",
                sfx(macd_hist, 2),
                macd_score > 0.0   ? ": bullish"
                : macd_score < 0.0 ? ": bearish"
                                   : ": flat"),
            say("price ", fx(p, 2), " vs SMA20 ", fx(sma20, 2), " and SMA50 ", fx(sma50, 2),
                trend >= 1.5    ? ": uptrend"
                : trend <= -1.5 ? ": downtrend"
                                : ": no clear trend"),
            p > upper ? say("price above the upper Bollinger band ", fx(upper, 2), ": stretched")
            : p < lower
                ? say("price below the lower Bollinger band ", fx(lower, 2), ": stretched")
                : say("price inside the Bollinger bands ", fx(lower, 2), " - ", fx(upper, 2)),
            say("score ", sfx(score, 1), " of +-", fx(kMaxScore, 1),
                lean >= kThreshold    ? ": evidence leans bullish"
                : lean <= -kThreshold ? ": evidence leans bearish"
                                      : ": evidence mixed"));
      }));
}

}  // namespace gs
