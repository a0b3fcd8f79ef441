#include "goldensignals/consensus/consensus_json.hpp"

#include <algorithm>
#include <cmath>

namespace gs {
namespace {

// Sets key only for a finite number: clients format these and must never see NaN.
void put_finite(nlohmann::json& j, const char* key, double x) {
  if (std::isfinite(x)) j[key] = x;
}

nlohmann::json detail(const Ballot& b, bool counted) {
  nlohmann::json d = nlohmann::json::object();
  d["name"] = b.agent;
  d["signal"] = ballot_signal(b);
  const bool voted = b.status == AgentStatus::Ok && b.vote;
  // Always a number: 0 for non-votes (and for a malformed vote's NaN).
  d["confidence"] = voted && std::isfinite(b.vote->confidence) ? b.vote->confidence : 0.0;
  put_finite(d, "weight", b.weight);
  d["status"] = to_string(b.status);
  put_finite(d, "latency_ms", b.latency_ms);
  d["counted"] = counted;
  if (!b.error.empty()) d["error"] = b.error;
  return d;
}

}  // namespace

std::string_view ballot_signal(const Ballot& b) noexcept {
  switch (b.status) {
    case AgentStatus::Ok:
      return b.vote ? to_string(b.vote->action) : "ABSTAIN";
    case AgentStatus::Abstain:
      return "ABSTAIN";
    case AgentStatus::Timeout:
      return "TIMEOUT";
    case AgentStatus::Failed:
      return "FAILED";
    case AgentStatus::Disabled:
      return "DISABLED";
  }
  return "FAILED";
}

nlohmann::json agents_consensus_json(const ConsensusResult& r, std::span<const Ballot> ballots) {
  nlohmann::json j = nlohmann::json::object();
  j["total_agents"] = r.total_agents;
  j["completed_agents"] = r.completed_agents;
  j["quorum"] = r.quorum;
  j["agreement"] = std::isfinite(r.agreement) ? r.agreement : 0.0;
  j["consensus_strength"] = to_string(r.strength);
  j["faulty_agents"] = r.faulty_agents;
  j["valid_votes"] = r.valid_votes;
  j["agreeing_agents"] = r.agreeing_agents;
  nlohmann::json details = nlohmann::json::object();
  for (const Ballot& b : ballots) {
    const bool counted =
        std::binary_search(r.counted_agents.begin(), r.counted_agents.end(), b.agent);
    details[b.agent] = detail(b, counted);
  }
  j["agent_details"] = std::move(details);
  return j;
}

nlohmann::json consensus_result_json(const ConsensusResult& r, std::span<const Ballot> ballots) {
  nlohmann::json j = agents_consensus_json(r, ballots);
  j["action"] = r.action_name();
  j["confidence"] = std::isfinite(r.confidence) ? r.confidence : 0.0;
  if (!r.reason.empty()) j["reason"] = r.reason;
  j["reasoning"] = r.reasoning;
  if (r.target_price) put_finite(j, "target_price", *r.target_price);
  if (r.stop_loss) put_finite(j, "stop_loss", *r.stop_loss);
  return j;
}

}  // namespace gs
