// Momentum: ROC(10), EMA12 vs EMA26 and recent returns; follows strong trends only.
#include "agent_util.hpp"
#include "goldensignals/agents/builtin.hpp"

namespace gs {

using namespace agents_detail;

namespace {
constexpr double kThreshold = 0.35;  // average score needed to follow the trend
}  // namespace

Momentum::Momentum(AgentSpec spec) : Agent(std::move(spec)) {}

AgentSpec Momentum::default_spec() {
  return {"Momentum", kBuiltinWeight, kBuiltinTimeout, AgentKind::Native};
}

std::optional<Vote> Momentum::analyze(const AgentContext& ctx) const {
  const auto& iv = ctx.indicators();
  const auto& c = ctx.market->close;
  const std::size_t n = c.size();
  if (n < 21 || !all_defined({iv.roc_10, iv.ema_12, iv.ema_26}) || !(iv.ema_26 > 0.0)) {
    return std::nullopt;
  }
  const double spread = pct(iv.ema_12, iv.ema_26);
  const double r5 = pct(c[n - 1], c[n - 6]);
  const double r20 = pct(c[n - 1], c[n - 21]);
  // Full marks at ROC +-5%, EMA spread +-2%, 5-bar +-2.5% with 20-bar +-10%.
  const double s_roc = clamp1(iv.roc_10 / 5.0);
  const double s_ema = clamp1(spread / 2.0);
  const double s_ret = clamp1((r5 / 2.5 + r20 / 10.0) / 2.0);
  const double lean = (s_roc + s_ema + s_ret) / 3.0;

  return vote_from_lean(
      lean, kThreshold,
      Reasoning::later(
          [roc = iv.roc_10, e12 = iv.ema_12, e26 = iv.ema_26, spread, r5, r20, s_roc, lean] {
            return lines_of(say("ROC(10) ", sfx(roc, 2), "%",
                                s_roc >= 0.5    ? ": strong upward momentum"
                                : s_roc <= -0.5 ? ": strong downward momentum"
                                                : ": weak momentum"),
                            say("EMA(12) ", fx(e12, 2), e12 >= e26 ? " above" : " below",
                                " EMA(26) ", fx(e26, 2), " (", sfx(spread, 2), "%)"),
                            say("returns: 5-bar ", sfx(r5, 2), "%, 20-bar ", sfx(r20, 2), "%"),
                            say("momentum score ", sfx(lean, 2),
                                lean >= kThreshold    ? ": following the uptrend"
                                : lean <= -kThreshold ? ": following the downtrend"
                                                      : ": no strong trend to follow"));
          }));
}

}  // namespace gs
