#include "goldensignals/runtime/status.hpp"

#include <nlohmann/json.hpp>

#include "goldensignals/runtime/runtime.hpp"

namespace gs {

nlohmann::json runtime_status_json(const Runtime& rt) {
  auto& orch = const_cast<Runtime&>(rt).orchestrator();
  const auto c = orch.counters();
  const auto pol = orch.policy();
  nlohmann::json agents = nlohmann::json::array();
  std::size_t enabled = 0;
  for (const auto& a : orch.agent_stats()) {
    enabled += a.enabled ? 1 : 0;
    nlohmann::json x = {{"name", a.name},
                        {"kind", a.kind},
                        {"weight", a.weight},
                        {"timeout_ms", a.timeout_ms},
                        {"calls", a.calls},
                        {"votes", a.votes},
                        {"abstentions", a.abstentions},
                        {"timeouts", a.timeouts},
                        {"errors", a.errors},
                        {"late", a.late},
                        {"p50_ms", a.latency.quantile(0.5)},
                        {"p90_ms", a.latency.quantile(0.9)},
                        {"p99_ms", a.latency.quantile(0.99)},
                        {"enabled", a.enabled},
                        {"state", a.state},
                        {"consecutive_faults", a.consecutive_faults}};
    if (!a.last_error.empty()) x["last_error"] = a.last_error;
    agents.push_back(std::move(x));
  }
  nlohmann::json out = {{"orchestrator",
           {{"running", rt.state() == RuntimeState::Running && orch.running()},
            {"state", std::string(to_string(rt.state()))},
            {"active_analyses", c.active_analyses},
            {"active_agents", enabled},
            {"analyses_started", c.analyses_started},
            {"analyses_completed", c.analyses_completed},
            {"signals_generated", c.signals_generated},
            {"coalesced_triggers", c.coalesced},
            {"min_agents_for_signal", pol.min_agents},
            {"consensus_threshold", pol.threshold},
            {"min_confidence", pol.min_confidence}}},
          {"agents", std::move(agents)},
          {"symbols", rt.symbols()},
          {"feed", rt.feed_description()}};
  if (const auto* s = rt.scorer()) out["scores"] = scores_json(*s);
  return out;
}

}  // namespace gs
