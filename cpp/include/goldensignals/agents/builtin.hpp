// The five built-in native agents. Each is a pure function of the context: it reads the
// current indicator values (and the OHLCV history where it needs a slope or an average),
// abstains while its inputs are still in their lead-in, and says why it voted as it did.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "goldensignals/agents/agent.hpp"

namespace gs {

// Defaults of every built-in: the operator may re-weight them; 250 ms is far above their ~1 us.
inline constexpr double kBuiltinWeight = 1.0;
inline constexpr std::chrono::milliseconds kBuiltinTimeout{250};

// RSI, MACD, moving-average trend and Bollinger position, each scored; BUY/SELL when the
// evidence clearly leans one way, HOLD when it is mixed.
class TechnicalAnalyst final : public Agent {
 public:
  explicit TechnicalAnalyst(AgentSpec spec = default_spec());
  static AgentSpec default_spec();
  [[nodiscard]] std::optional<Vote> analyze(const AgentContext& ctx) const override;
};

// Follows strong trends: ROC(10), EMA12 vs EMA26, and the 5- and 20-bar returns.
class Momentum final : public Agent {
 public:
  explicit Momentum(AgentSpec spec = default_spec());
  static AgentSpec default_spec();
  [[nodiscard]] std::optional<Vote> analyze(const AgentContext& ctx) const override;
};

// Fades stretched moves: Bollinger z-score with RSI extremes as confirmation.
class MeanReversion final : public Agent {
 public:
  explicit MeanReversion(AgentSpec spec = default_spec());
  static AgentSpec default_spec();
  [[nodiscard]] std::optional<Vote> analyze(const AgentContext& ctx) const override;
};

// Volume confirming the move (OBV flow, volume ratio) votes with it; divergence holds.
class VolumeAnalyst final : public Agent {
 public:
  explicit VolumeAnalyst(AgentSpec spec = default_spec());
  static AgentSpec default_spec();
  [[nodiscard]] std::optional<Vote> analyze(const AgentContext& ctx) const override;
};

// ATR regime: calm follows the trend, a volatility spike holds (or sells a downside spike).
class VolatilityRegime final : public Agent {
 public:
  explicit VolatilityRegime(AgentSpec spec = default_spec());
  static AgentSpec default_spec();
  [[nodiscard]] std::optional<Vote> analyze(const AgentContext& ctx) const override;
};

// "TechnicalAnalyst", "Momentum", "MeanReversion", "VolumeAnalyst", "VolatilityRegime".
std::vector<std::string> builtin_agent_names();

// Native agents made by name but not in the default panel: "Analog" (default options).
std::vector<std::string> optional_agent_names();

// The named built-ins (or optional agents) in the order given (empty: all five, in
// builtin_agent_names() order).
// Throws InvalidArgument naming an unknown name and listing the known ones.
std::vector<AgentPtr> make_builtin_agents(const std::vector<std::string>& names = {});

}  // namespace gs
