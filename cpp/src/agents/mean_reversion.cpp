// MeanReversion: fades prices stretched far outside the Bollinger bands, RSI as confirmation.
#include "agent_util.hpp"
#include "goldensignals/agents/builtin.hpp"

namespace gs {

using namespace agents_detail;

MeanReversion::MeanReversion(AgentSpec spec) : Agent(std::move(spec)) {}

AgentSpec MeanReversion::default_spec() {
  return {"MeanReversion", kBuiltinWeight, kBuiltinTimeout, AgentKind::Native};
}

std::optional<Vote> MeanReversion::analyze(const AgentContext& ctx) const {
  const auto& iv = ctx.indicators();
  const double p = ctx.price();
  if (!all_defined({iv.bb_upper, iv.bb_middle, iv.bb_lower, iv.rsi_14, p})) return std::nullopt;
  const double sigma = (iv.bb_upper - iv.bb_middle) / 2.0;  // the bands are middle +- 2 sigma
  if (!(sigma > 0.0)) {
    return make_vote(Action::Hold, 0.5, Reasoning::later([mid = iv.bb_middle] {
                       return lines_of(say("Bollinger bands have zero width at ", fx(mid, 2),
                                           ": nothing stretched to fade"));
                     }));
  }
  const double z = (p - iv.bb_middle) / sigma;
  const double az = std::abs(z);
  const bool hot = iv.rsi_14 > 70.0;
  const bool cold = iv.rsi_14 < 30.0;
  const bool rsi_confirms = (z > 0.0 && hot) || (z < 0.0 && cold);

  Action action = Action::Hold;
  double conf = 0.35;
  const char* verdict = "stretched but not extreme: wait";
  if (az >= 2.5 || (az >= 2.0 && rsi_confirms)) {
    action = z > 0.0 ? Action::Sell : Action::Buy;
    conf = std::min(0.95, 0.5 + 0.15 * (az - 2.0) + (rsi_confirms ? 0.15 : 0.0));
    verdict = z > 0.0 ? "far above the upper band: fade the rise"
                      : "far below the lower band: fade the drop";
  } else if (az < 1.0) {
    conf = 0.6 - 0.2 * az;
    verdict = "within 1 sigma of the middle band: nothing to fade";
  }
  return make_vote(action, conf,
                   Reasoning::later([z, p, mid = iv.bb_middle, lower = iv.bb_lower,
                                     upper = iv.bb_upper, rsi = iv.rsi_14, hot, cold, verdict] {
                     return lines_of(
                         say("Bollinger z-score ", sfx(z, 2), " (price ", fx(p, 2), ", middle ",
                             fx(mid, 2), ", bands ", fx(lower, 2), " - ", fx(upper, 2), ")"),
                         say("RSI(14) ", fx(rsi, 1),
                             hot    ? " > 70: overbought"
                             : cold ? " < 30: oversold"
                                    : ": not extreme"),
                         std::string(verdict));
                   }));
}

}  // namespace gs
