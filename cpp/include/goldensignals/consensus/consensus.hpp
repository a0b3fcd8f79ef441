// Byzantine-robust consensus over one analysis' ballots. Pure and deterministic.
// The rules, their reasons and guarantees: docs/consensus.md.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "goldensignals/core/types.hpp"

namespace gs {

struct ConsensusPolicy {
  double min_confidence = 0.6;  // AGENT_MIN_CONFIDENCE: weaker votes do not count
  double threshold = 0.7;       // AGENT_CONSENSUS_THRESHOLD: agreement needed (never below 0.5)
  int min_agents = 3;           // min_agents_for_signal: quorum floor
  double target_atr = 2.0;      // target = price +- target_atr * ATR when agents give none
  double stop_atr = 1.0;        // stop = price -+ stop_atr * ATR when agents give none

  // Throws InvalidArgument naming the field, the value and the accepted range.
  void validate() const;
};

enum class Strength : std::uint8_t { Strong, Moderate, Weak };
std::string_view to_string(Strength s) noexcept;

struct ConsensusResult {
  std::optional<Action> action;  // empty: NO_SIGNAL
  double confidence = 0.0;       // robust confidence of the signal, in [0, 0.99]
  double agreement = 0.0;        // winning score / total score (0 when nothing counted)
  Strength strength = Strength::Weak;
  int total_agents = 0;                    // n: enabled agents (ballots not Disabled)
  int completed_agents = 0;                // ballots that answered (Ok or Abstain)
  int valid_votes = 0;                     // votes that counted
  int quorum = 0;                          // max(min_agents, 2f + 1)
  int agreeing_agents = 0;                 // counted votes for the winning action
  std::string reason;                      // why NO_SIGNAL (empty for a signal)
  std::vector<std::string> faulty_agents;  // Timeout or Failed
  std::vector<std::string> reasoning;      // the winners' reasoning, strongest first
  std::optional<double> target_price;
  std::optional<double> stop_loss;
  std::vector<std::string> counted_agents;  // agents whose vote counted, sorted by name

  // "BUY", "SELL", "HOLD" or "NO_SIGNAL".
  [[nodiscard]] std::string action_name() const;
};

// price and atr are the symbol's last price and ATR (NaN when unknown: no ATR-based levels).
ConsensusResult decide(std::span<const Ballot> ballots, const ConsensusPolicy& policy, double price,
                       double atr);

}  // namespace gs
