// What the orchestrator reports: agent updates, decisions (with or without a signal), alerts.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "goldensignals/consensus/consensus.hpp"
#include "goldensignals/core/types.hpp"
#include "goldensignals/indicators/indicator_set.hpp"

namespace gs {

// An agent_update's `signal`: ANALYZING (agent "Orchestrator": an analysis starts),
// PROCESSING (the agent was asked), then its answer: BUY, SELL, HOLD, ABSTAIN (also an agent
// its circuit breaker refused), TIMEOUT or FAILED.
enum class AgentSignal : std::uint8_t { Analyzing, Processing, Buy, Sell, Hold, Abstain, Timeout, Failed };
// What started an analysis: data at start-up, a price move, the interval, or a request.
enum class Trigger : std::uint8_t { Initial, Move, Interval, Manual };
// An alert's `alert_type` and `severity`.
enum class AlertType : std::uint8_t { Info, Warning, Error, System };
enum class Severity : std::uint8_t { Info, Warning, Error, Critical };

// Their protocol names (upper case for signals, lower case for the rest): the one place an
// event field becomes text.
std::string_view to_string(AgentSignal s) noexcept;
std::string_view to_string(Trigger t) noexcept;
std::string_view to_string(AlertType t) noexcept;
std::string_view to_string(Severity s) noexcept;
// What an agent_update says of a settled ballot.
AgentSignal agent_signal(const Ballot& b) noexcept;

// One step of one agent in one analysis.
struct AgentUpdate {
  std::string symbol;
  std::string analysis_id;
  std::string agent;
  AgentSignal signal = AgentSignal::Processing;
  double confidence = 0.0;
  double latency_ms = 0.0;
  Reasoning reasoning;  // the vote's own (shared, written when first read), or why none
  std::int64_t ts_ms = 0;
};

// The end of an analysis. A signal when consensus.action is set, else NO_SIGNAL.
struct Decision {
  std::string symbol;
  std::string analysis_id;
  std::string signal_id;  // empty without a signal
  Trigger trigger = Trigger::Manual;
  ConsensusResult consensus;
  std::vector<Ballot> ballots;
  double price = 0.0;
  std::int64_t ts_ms = 0;         // wall-clock time of the decision
  std::int64_t market_ts_ms = 0;  // time of the market data the agents saw
  ind::IndicatorValues indicators;
  double position_size = 0.0;  // fraction of equity suggested (0 without a signal)

  [[nodiscard]] bool has_signal() const noexcept { return consensus.action.has_value(); }
};
using DecisionPtr = std::shared_ptr<const Decision>;

struct Alert {
  AlertType alert_type = AlertType::System;
  Severity severity = Severity::Info;
  std::string code;
  std::string message;
  std::int64_t ts_ms = 0;
};

// The protocol's `data` objects (docs/protocol.md).
nlohmann::json agent_update_json(const AgentUpdate& u);
nlohmann::json signal_json(const Decision& d);    // signal_update data; requires has_signal()
nlohmann::json decision_json(const Decision& d);  // decision_update data
nlohmann::json alert_json(const Alert& a);        // the whole alert message

// Receives events; called on compute threads: must not block and must not take the GIL.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_agent_update(const AgentUpdate& u) = 0;
  virtual void on_decision(const DecisionPtr& d) = 0;
  virtual void on_alert(const Alert& a) = 0;
};

}  // namespace gs
