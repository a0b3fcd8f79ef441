// VolumeAnalyst: votes with a 10-bar move when on-balance volume confirms it; holds otherwise.
#include "agent_util.hpp"
#include "goldensignals/agents/builtin.hpp"

namespace gs {

using namespace agents_detail;

namespace {
constexpr std::size_t kLookback = 10;
constexpr double kMinMovePct = 0.5;  // a smaller 10-bar move is "flat"
constexpr double kMinFlow = 0.2;     // OBV change / volume traded needed to call a side
}  // namespace

VolumeAnalyst::VolumeAnalyst(AgentSpec spec) : Agent(std::move(spec)) {}

AgentSpec VolumeAnalyst::default_spec() {
  return {"VolumeAnalyst", kBuiltinWeight, kBuiltinTimeout, AgentKind::Native};
}

std::optional<Vote> VolumeAnalyst::analyze(const AgentContext& ctx) const {
  const auto& iv = ctx.indicators();
  const auto& c = ctx.market->close;
  const auto& vol = ctx.market->volume;
  const std::size_t n = c.size();
  if (n < kLookback + 1 || !all_defined({iv.volume_ratio, iv.obv})) return std::nullopt;
  // The OBV change over the lookback, recomputed from the bars (the snapshot has only its level).
  double obv_delta = 0.0;
  double traded = 0.0;
  for (std::size_t i = n - kLookback; i < n; ++i) {
    if (c[i] > c[i - 1]) {
      obv_delta += vol[i];
    } else if (c[i] < c[i - 1]) {
      obv_delta -= vol[i];
    }
    traded += vol[i];
  }
  if (!(traded > 0.0)) return std::nullopt;  // no volume: nothing to say about volume
  const double flow = obv_delta / traded;
  const double move = pct(c[n - 1], c[n - 1 - kLookback]);
  const int dir = move > kMinMovePct ? 1 : move < -kMinMovePct ? -1 : 0;
  const int fdir = flow >= kMinFlow ? 1 : flow <= -kMinFlow ? -1 : 0;

  Action action = Action::Hold;
  double conf = 0.4;
  const char* verdict = "no volume-backed move";
  if (dir != 0 && dir == fdir) {
    const double surge = std::min(1.0, std::max(0.0, iv.volume_ratio - 1.0));
    action = dir > 0 ? Action::Buy : Action::Sell;
    conf = std::min(0.95, 0.45 + 0.3 * std::abs(flow) + 0.15 * surge);
    verdict = dir > 0 ? "volume confirms the rise" : "volume confirms the fall";
  } else if (dir != 0 && fdir == -dir) {
    conf = 0.5;
    verdict = dir > 0 ? "divergence: price rising while OBV falls"
                      : "divergence: price falling while OBV rises";
  }
  return make_vote(
      action, conf,
      Reasoning::later([move, obv_delta, flow, fdir, ratio = iv.volume_ratio, verdict] {
        return lines_of(
            say("price ", sfx(move, 2), "% over 10 bars"),
            say("OBV ", sfx(obv_delta, 0), " over 10 bars (", sfx(flow, 2), " of volume traded)",
                fdir > 0   ? ": buying pressure"
                : fdir < 0 ? ": selling pressure"
                           : ": balanced"),
            say("volume ratio ", fx(ratio, 2), "x its 20-bar average"), std::string(verdict));
      }));
}

}  // namespace gs
