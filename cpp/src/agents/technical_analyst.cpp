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
  std::vector<std::string> why;
  why.reserve(5);
  double score = 0.0;

  if (iv.rsi_14 < 30.0) {
    score += 1.0;
    why.push_back(say("RSI(14) ", fx(iv.rsi_14, 1), " < 30: oversold"));
  } else if (iv.rsi_14 > 70.0) {
    score -= 1.0;
    why.push_back(say("RSI(14) ", fx(iv.rsi_14, 1), " > 70: overbought"));
  } else {
    why.push_back(say("RSI(14) ", fx(iv.rsi_14, 1), ": neutral"));
  }

  // Differences smaller than a slice of ATR count as flat, so noise does not pass for a trend.
  const double a = iv.atr_14;
  const double macd_score = side(iv.macd_hist, 0.1 * a) * 0.5 + side(iv.macd, 0.2 * a) * 1.0;
  score += macd_score;
  why.push_back(say("MACD ", fx(iv.macd, 2), " vs signal ", fx(iv.macd_signal, 2), ", histogram ",
                    sfx(iv.macd_hist, 2),
                    macd_score > 0.0   ? ": bullish"
                    : macd_score < 0.0 ? ": bearish"
                                       : ": flat"));

  const double trend = side(p - iv.sma_20, 0.25 * a) * 0.5 + side(p - iv.sma_50, 0.25 * a) * 0.5 +
                       side(iv.sma_20 - iv.sma_50, 0.5 * a) * 1.0;
  score += trend;
  why.push_back(say("price ", fx(p, 2), " vs SMA20 ", fx(iv.sma_20, 2), " and SMA50 ",
                    fx(iv.sma_50, 2),
                    trend >= 1.5    ? ": uptrend"
                    : trend <= -1.5 ? ": downtrend"
                                    : ": no clear trend"));

  if (p > iv.bb_upper) {
    score -= 0.5;
    why.push_back(say("price above the upper Bollinger band ", fx(iv.bb_upper, 2), ": stretched"));
  } else if (p < iv.bb_lower) {
    score += 0.5;
    why.push_back(say("price below the lower Bollinger band ", fx(iv.bb_lower, 2), ": stretched"));
  } else {
    why.push_back(
        say("price inside the Bollinger bands ", fx(iv.bb_lower, 2), " - ", fx(iv.bb_upper, 2)));
  }

  const double lean = score / kMaxScore;
  why.push_back(say("score ", sfx(score, 1), " of +-", fx(kMaxScore, 1),
                    lean >= kThreshold    ? ": evidence leans bullish"
                    : lean <= -kThreshold ? ": evidence leans bearish"
                                          : ": evidence mixed"));
  return vote_from_lean(lean, kThreshold, std::move(why));
}

}  // namespace gs
