// The agent interface: a pure function of an AgentContext to a Vote, or an abstention.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "goldensignals/core/types.hpp"
#include "goldensignals/market/snapshot.hpp"

namespace gs {

struct AgentContext {
  SnapshotPtr market;  // never null
  std::string analysis_id;

  [[nodiscard]] const std::string& symbol() const noexcept { return market->symbol; }
  [[nodiscard]] double price() const noexcept { return market->price; }
  [[nodiscard]] const ind::IndicatorValues& indicators() const noexcept {
    return market->indicators;
  }
};

enum class AgentKind : std::uint8_t { Native, Python };

struct AgentSpec {
  std::string name;
  double weight = 1.0;                      // the operator's weight, never the agent's
  std::chrono::milliseconds timeout{1000};  // per-analysis deadline; 0: the orchestrator's default
  AgentKind kind = AgentKind::Native;
};

// What an agent produced: a vote, an abstention (vote empty, error empty) or a failure.
struct AgentOutcome {
  std::optional<Vote> vote;
  bool failed = false;
  std::string error;
};

class Agent {
 public:
  explicit Agent(AgentSpec spec) : spec_(std::move(spec)) {}
  virtual ~Agent() = default;
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  [[nodiscard]] const AgentSpec& spec() const noexcept { return spec_; }
  [[nodiscard]] const std::string& name() const noexcept { return spec_.name; }

  // Native agents: evaluate synchronously on the compute pool. May throw (counted as a fault).
  [[nodiscard]] virtual std::optional<Vote> analyze(const AgentContext& ctx) const = 0;

  // Agents that run elsewhere (Python) override this: start the evaluation and return at once;
  // call done exactly once, from any thread; an answer after `deadline` will not count. The
  // default runs analyze() inline.
  using Done = std::function<void(AgentOutcome)>;
  using Deadline = std::chrono::steady_clock::time_point;
  virtual void start(std::shared_ptr<const AgentContext> ctx, Deadline deadline, Done done) const;

 private:
  AgentSpec spec_;
};

using AgentPtr = std::shared_ptr<const Agent>;

}  // namespace gs
