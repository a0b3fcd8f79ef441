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
  std::vector<std::string> why;
  why.reserve(3);
  const double sigma = (iv.bb_upper - iv.bb_middle) / 2.0;  // the bands are middle +- 2 sigma
  if (!(sigma > 0.0)) {
    why.push_back(say("Bollinger bands have zero width at ", fx(iv.bb_middle, 2),
                      ": nothing stretched to fade"));
    return make_vote(Action::Hold, 0.5, std::move(why));
  }
  const double z = (p - iv.bb_middle) / sigma;
  const double az = std::abs(z);
  why.push_back(say("Bollinger z-score ", sfx(z, 2), " (price ", fx(p, 2), ", middle ",
                    fx(iv.bb_middle, 2), ", bands ", fx(iv.bb_lower, 2), " - ", fx(iv.bb_upper, 2),
                    ")"));
  const bool hot = iv.rsi_14 > 70.0;
  const bool cold = iv.rsi_14 < 30.0;
  const bool rsi_confirms = (z > 0.0 && hot) || (z < 0.0 && cold);
  if (hot || cold) {
    why.push_back(say("RSI(14) ", fx(iv.rsi_14, 1), hot ? " > 70: overbought" : " < 30: oversold"));
  } else {
    why.push_back(say("RSI(14) ", fx(iv.rsi_14, 1), ": not extreme"));
  }

  if (az >= 2.5 || (az >= 2.0 && rsi_confirms)) {
    const double conf = std::min(0.95, 0.5 + 0.15 * (az - 2.0) + (rsi_confirms ? 0.15 : 0.0));
    why.push_back(z > 0.0 ? "far above the upper band: fade the rise"
                          : "far below the lower band: fade the drop");
    return make_vote(z > 0.0 ? Action::Sell : Action::Buy, conf, std::move(why));
  }
  if (az < 1.0) {
    why.push_back("within 1 sigma of the middle band: nothing to fade");
    return make_vote(Action::Hold, 0.6 - 0.2 * az, std::move(why));
  }
  why.push_back("stretched but not extreme: wait");
  return make_vote(Action::Hold, 0.35, std::move(why));
}

}  // namespace gs
