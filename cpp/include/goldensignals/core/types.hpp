// Value types shared by every part of the runtime. No I/O, no Boost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goldensignals/core/reasoning.hpp"

namespace gs {

enum class Action : std::uint8_t { Buy, Sell, Hold };

// "BUY" / "SELL" / "HOLD".
std::string_view to_string(Action a) noexcept;
// Case-sensitive parse of "BUY", "SELL", "HOLD"; nullopt for anything else.
std::optional<Action> parse_action(std::string_view s) noexcept;

// One OHLCV bar; ts_ms is the bar's open time in milliseconds since the epoch (UTC).
struct Bar {
  std::int64_t ts_ms = 0;
  double open = 0.0;
  double high = 0.0;
  double low = 0.0;
  double close = 0.0;
  double volume = 0.0;
};

struct Tick {
  std::string symbol;
  double price = 0.0;
  double volume = 0.0;
  std::int64_t ts_ms = 0;
};

// An agent's vote. confidence is in [0, 1]; target and stop are optional prices.
struct Vote {
  Action action = Action::Hold;
  double confidence = 0.0;
  Reasoning reasoning;  // native agents write it when it is first read
  std::optional<double> target_price;
  std::optional<double> stop_loss;
};

// What happened to one agent in one analysis.
enum class AgentStatus : std::uint8_t {
  Ok,        // voted
  Abstain,   // returned no vote
  Timeout,   // no answer before its deadline
  Failed,    // raised, or returned something that is not a valid vote
  Disabled,  // its circuit breaker is open; it was not asked
};

// "ok", "abstain", "timeout", "failed", "disabled".
std::string_view to_string(AgentStatus s) noexcept;

// One agent's entry in an analysis, as the consensus engine sees it.
struct Ballot {
  std::string agent;
  double weight = 1.0;
  AgentStatus status = AgentStatus::Abstain;
  std::optional<Vote> vote;  // set iff status == Ok
  double latency_ms = 0.0;
  std::string error;  // why it failed / timed out, for people
};

}  // namespace gs
