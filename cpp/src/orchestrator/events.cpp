#include "goldensignals/orchestrator/events.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "goldensignals/consensus/consensus_json.hpp"
#include "goldensignals/core/clock.hpp"

namespace gs {

namespace {
// Numbers clients format are never NaN: unknown values are omitted.
void put_finite(nlohmann::json& j, const char* key, double v) {
  if (std::isfinite(v)) j[key] = v;
}
}  // namespace

std::string_view to_string(AgentSignal s) noexcept {
  switch (s) {
    case AgentSignal::Analyzing:
      return "ANALYZING";
    case AgentSignal::Processing:
      return "PROCESSING";
    case AgentSignal::Buy:
      return "BUY";
    case AgentSignal::Sell:
      return "SELL";
    case AgentSignal::Hold:
      return "HOLD";
    case AgentSignal::Abstain:
      return "ABSTAIN";
    case AgentSignal::Timeout:
      return "TIMEOUT";
    case AgentSignal::Failed:
      return "FAILED";
  }
  return "FAILED";
}

std::string_view to_string(Trigger t) noexcept {
  switch (t) {
    case Trigger::Initial:
      return "initial";
    case Trigger::Move:
      return "move";
    case Trigger::Interval:
      return "interval";
    case Trigger::Manual:
      return "manual";
  }
  return "manual";
}

std::string_view to_string(AlertType t) noexcept {
  switch (t) {
    case AlertType::Info:
      return "info";
    case AlertType::Warning:
      return "warning";
    case AlertType::Error:
      return "error";
    case AlertType::System:
      return "system";
  }
  return "system";
}

std::string_view to_string(Severity s) noexcept {
  switch (s) {
    case Severity::Info:
      return "info";
    case Severity::Warning:
      return "warning";
    case Severity::Error:
      return "error";
    case Severity::Critical:
      return "critical";
  }
  return "error";
}

AgentSignal agent_signal(const Ballot& b) noexcept {
  switch (b.status) {
    case AgentStatus::Ok:
      if (!b.vote) return AgentSignal::Abstain;
      switch (b.vote->action) {
        case Action::Buy:
          return AgentSignal::Buy;
        case Action::Sell:
          return AgentSignal::Sell;
        case Action::Hold:
          return AgentSignal::Hold;
      }
      return AgentSignal::Hold;
    case AgentStatus::Abstain:
    case AgentStatus::Disabled:
      return AgentSignal::Abstain;
    case AgentStatus::Timeout:
      return AgentSignal::Timeout;
    case AgentStatus::Failed:
      return AgentSignal::Failed;
  }
  return AgentSignal::Failed;
}

nlohmann::json agent_update_json(const AgentUpdate& u) {
  return {{"symbol", u.symbol},         {"analysis_id", u.analysis_id},
          {"agent", u.agent},           {"signal", to_string(u.signal)},
          {"confidence", u.confidence}, {"latency_ms", u.latency_ms},
          {"reasoning", u.reasoning.lines()},   {"timestamp", iso8601_ms(u.ts_ms)}};
}

nlohmann::json signal_json(const Decision& d) {
  const auto& c = d.consensus;
  nlohmann::json indicators = nlohmann::json::object();
  for (const auto& [name, v] : d.indicators.defined()) indicators[std::string(name)] = v;
  nlohmann::json metadata = {{"reasoning", c.reasoning},
                             {"indicators", std::move(indicators)},
                             {"trigger", to_string(d.trigger)},
                             {"market_time", iso8601_ms(d.market_ts_ms)},
                             {"position_size", d.position_size}};
  if (c.target_price) metadata["target_price"] = *c.target_price;
  if (c.stop_loss) metadata["stop_loss"] = *c.stop_loss;
  nlohmann::json j = {{"symbol", d.symbol},
                      {"signal_id", d.signal_id},
                      {"analysis_id", d.analysis_id},
                      {"action", c.action_name()},
                      {"confidence", c.confidence},
                      {"agents_consensus", agents_consensus_json(c, d.ballots)},
                      {"timestamp", iso8601_ms(d.ts_ms)},
                      {"metadata", std::move(metadata)}};
  put_finite(j, "price", d.price);
  return j;
}

nlohmann::json decision_json(const Decision& d) {
  nlohmann::json decision;
  if (d.has_signal()) {
    decision = {{"action", d.consensus.action_name()},
                {"signal_id", d.signal_id},
                {"confidence", d.consensus.confidence},
                {"position_size", d.position_size}};
  } else {
    nlohmann::json summary = nlohmann::json::object();
    for (const auto& b : d.ballots) summary[b.agent] = std::string(ballot_signal(b));
    decision = {
        {"action", "NO_SIGNAL"}, {"reason", d.consensus.reason}, {"agent_summary", summary}};
  }
  nlohmann::json j = {{"symbol", d.symbol},
                      {"analysis_id", d.analysis_id},
                      {"decision", std::move(decision)},
                      {"trigger", to_string(d.trigger)},
                      {"timestamp", iso8601_ms(d.ts_ms)}};
  if (!d.ballots.empty()) j["agents_consensus"] = agents_consensus_json(d.consensus, d.ballots);
  return j;
}

nlohmann::json alert_json(const Alert& a) {
  return {{"type", "alert"}, {"alert_type", to_string(a.alert_type)},
          {"severity", to_string(a.severity)},
          {"code", a.code},  {"message", a.message},       {"timestamp", iso8601_ms(a.ts_ms)}};
}

}  // namespace gs
