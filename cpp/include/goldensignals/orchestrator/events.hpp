// What the orchestrator reports: agent updates, decisions (with or without a signal), alerts.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "goldensignals/consensus/consensus.hpp"
#include "goldensignals/core/types.hpp"
#include "goldensignals/indicators/indicator_set.hpp"

namespace gs {

// One step of one agent in one analysis. signal: ANALYZING (agent "Orchestrator"),
// PROCESSING, BUY, SELL, HOLD, TIMEOUT, FAILED or ABSTAIN.
struct AgentUpdate {
  std::string symbol;
  std::string analysis_id;
  std::string agent;
  std::string signal;
  double confidence = 0.0;
  double latency_ms = 0.0;
  std::vector<std::string> reasoning;
  std::int64_t ts_ms = 0;
};

// The end of an analysis. A signal when consensus.action is set, else NO_SIGNAL.
struct Decision {
  std::string symbol;
  std::string analysis_id;
  std::string signal_id;  // empty without a signal
  std::string trigger;    // "move", "interval", "manual", "initial"
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
  std::string alert_type;  // info | warning | error | system
  std::string severity;    // info | warning | error | critical
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
