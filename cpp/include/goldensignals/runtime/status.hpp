// The runtime's figures as JSON, one builder for every place that shows them
// (GET /ws/status, status_update, rt.status() in Python).
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace gs {

class Runtime;

// {"orchestrator": {running, state, active_analyses, active_agents, analyses_started,
//   analyses_completed, signals_generated, coalesced_triggers, min_agents_for_signal,
//   consensus_threshold, min_confidence}, "agents": [{name, kind, weight, timeout_ms, calls,
//   votes, abstentions, timeouts, errors, late, p50_ms, p90_ms, p99_ms, enabled, state,
//   consecutive_faults, last_error?}], "symbols": [...], "feed": "...",
//   "scores": scores_json() when scoring is on}
nlohmann::json runtime_status_json(const Runtime& rt);

}  // namespace gs
