// Runs analyses: one in flight per symbol (later triggers coalesce into one follow-up), every
// agent under its own deadline, results reported as they arrive, consensus at the end.
// Native agents run on the compute pool; agents of other kinds run where Agent::start sends
// them. The orchestrator never blocks a caller and never waits past the slowest deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "goldensignals/agents/agent.hpp"
#include "goldensignals/consensus/consensus.hpp"
#include "goldensignals/orchestrator/agent_stats.hpp"
#include "goldensignals/orchestrator/events.hpp"

namespace gs {

struct OrchestratorOptions {
  std::size_t compute_threads = 1;  // native agents and consensus; 1 keeps a core for I/O
  int breaker_faults = 5;           // consecutive faults that open an agent's circuit breaker
  std::chrono::milliseconds breaker_cooldown{30'000};  // how long a tripped agent rests
  std::size_t max_symbols = 10'000;  // symbols with analysis state, at most (bounds memory)
  // Synchronous replay (backtests): request() runs the analysis to its end on the caller's
  // thread, agents in order, with no compute or timer threads. An answer is still judged
  // against its deadline when it arrives, but a slow agent is waited for, not abandoned.
  bool driven = false;
};

// Produces the market view for an analysis of `symbol` (called on a compute thread).
using SnapshotSource = std::function<SnapshotPtr(const std::string& symbol)>;

// Adjusts the ballots' weights just before the consensus (adaptive weights); returns one line
// per adjusted agent saying why, for the signal's reasoning. Called on a compute thread.
using WeightAdvisor = std::function<std::vector<std::string>(std::vector<Ballot>& ballots)>;

class Orchestrator {
 public:
  Orchestrator(OrchestratorOptions opts, ConsensusPolicy policy, SnapshotSource source,
               std::shared_ptr<EventSink> sink);
  ~Orchestrator();
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // Agents. Names are unique (InvalidArgument otherwise).
  void add_agent(AgentPtr agent);
  bool remove_agent(const std::string& name);
  [[nodiscard]] std::vector<AgentPtr> agents() const;

  // Starts an analysis of `symbol` now, or joins the one in flight; a trigger that arrives
  // while one is in flight also schedules one follow-up with fresh data. Never blocks, except
  // when driven: then it returns once the analysis (and any follow-up) is done.
  std::shared_future<DecisionPtr> request(const std::string& symbol, Trigger trigger);

  // Stops accepting work and waits for analyses in flight (at most their deadlines).
  void stop();

  // Deadline of agents whose spec says 0 (live-tunable; InvalidArgument outside 1 ms..1 h).
  void set_default_timeout(std::chrono::milliseconds t);
  [[nodiscard]] std::chrono::milliseconds default_timeout() const {
    return std::chrono::milliseconds(default_timeout_ms_.load());
  }

  // Replaces the weight advisor (none: the operator's weights as they are).
  void set_weight_advisor(WeightAdvisor advisor);

  // Live-tunable policy (validated; InvalidArgument on a bad value).
  [[nodiscard]] ConsensusPolicy policy() const;
  void set_policy(const ConsensusPolicy& p);

  struct Counters {
    std::uint64_t analyses_started = 0;
    std::uint64_t analyses_completed = 0;
    std::uint64_t signals_generated = 0;
    std::uint64_t coalesced = 0;
    std::size_t active_analyses = 0;
  };
  [[nodiscard]] Counters counters() const;
  [[nodiscard]] std::vector<AgentStatsView> agent_stats() const;
  [[nodiscard]] bool running() const noexcept { return !stopping_.load(); }

  // Blocks until no analysis of `symbol` is in flight or queued (for as-fast-as-possible replay).
  void wait_idle(const std::string& symbol);

 private:
  struct Analysis;
  struct SymbolSlot;
  struct Entry;
  struct Gate;
  struct Io;

  void drive(SymbolSlot& slot);  // driven: runs the compute queue until the slot is idle
  // An analysis: opened (null: no market data, completed with the reason), its agents
  // admitted by their circuit breakers, announced, and started.
  void launch(const std::shared_ptr<SymbolSlot>& slot, Trigger trigger,
              std::shared_ptr<std::promise<DecisionPtr>> promise);
  std::shared_ptr<Analysis> open_analysis(const std::shared_ptr<SymbolSlot>& slot,
                                          Trigger trigger,
                                          std::shared_ptr<std::promise<DecisionPtr>> promise);
  // The agents that run (their indexes); `refused` gets the others' ballots.
  std::vector<std::size_t> admit(Analysis& a, std::vector<Ballot>& refused);
  void start_agent(const std::shared_ptr<Analysis>& a, std::size_t i);
  void complete(const std::shared_ptr<Analysis>& a, std::shared_ptr<Decision> d);
  void on_result(const std::shared_ptr<Analysis>& a, std::size_t i, AgentOutcome out,
                 std::chrono::steady_clock::time_point arrived);
  void on_deadline(const std::shared_ptr<Analysis>& a, std::size_t i);
  void settle(const std::shared_ptr<Analysis>& a, std::size_t i, Ballot b);
  void finish(const std::shared_ptr<Analysis>& a);
  void account(Entry& e, const Ballot& b);
  [[nodiscard]] std::chrono::milliseconds timeout_of(const Agent& a) const;
  std::shared_ptr<SymbolSlot> slot_for(const std::string& symbol);

  OrchestratorOptions opts_;
  SnapshotSource source_;
  std::shared_ptr<EventSink> sink_;
  std::unique_ptr<Io> io_;  // the compute pool and the deadline timers (Asio stays in the .cpp)
  std::shared_ptr<Gate> gate_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;  // guards agents_, policy_, slots_, advisor_ (never held across a call out)
  WeightAdvisor advisor_;
  std::vector<std::shared_ptr<Entry>> agents_;
  ConsensusPolicy policy_;
  std::map<std::string, std::shared_ptr<SymbolSlot>> slots_;

  std::atomic<std::uint64_t> started_{0}, completed_{0}, signals_{0}, coalesced_{0};
  std::atomic<std::size_t> active_{0};
  std::atomic<int> drivers_{0};  // driven: threads in drive() now
  std::atomic<std::int64_t> default_timeout_ms_{1000};
  std::mutex idle_mu_;
  std::condition_variable idle_cv_;
};

}  // namespace gs
