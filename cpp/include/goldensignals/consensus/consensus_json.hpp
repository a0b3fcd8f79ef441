// The consensus result in docs/protocol.md's JSON form (signal_update's agents_consensus object).
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "goldensignals/consensus/consensus.hpp"

namespace gs {

// docs/protocol.md's agents_consensus: total_agents, completed_agents, quorum, agreement,
// consensus_strength, faulty_agents, valid_votes, agreeing_agents and agent_details keyed by
// agent name. `ballots` are the ones `result` was decided from. Never emits NaN: unknown
// numbers are omitted.
nlohmann::json agents_consensus_json(const ConsensusResult& result,
                                     std::span<const Ballot> ballots);

// agents_consensus_json plus action ("NO_SIGNAL" too), confidence, reasoning, and reason,
// target_price and stop_loss when present.
nlohmann::json consensus_result_json(const ConsensusResult& result,
                                     std::span<const Ballot> ballots);

// What an agent_details entry shows as `signal`: the vote's action, else "ABSTAIN",
// "TIMEOUT", "FAILED" or "DISABLED".
std::string_view ballot_signal(const Ballot& b) noexcept;

}  // namespace gs
