#include <gtest/gtest.h>

#include <algorithm>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/orchestrator/orchestrator.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

namespace gs {
namespace {

struct Fixture {
  explicit Fixture(OrchestratorOptions o = {}, ConsensusPolicy p = {}) {
    auto snap = std::make_shared<MarketSnapshot>();
    snap->symbol = "AAPL";
    snap->price = 100.0;
    snap->close = {99.0, 100.0};
    snapshot = snap;
    sink = std::make_shared<test::RecordingSink>();
    orch = std::make_unique<Orchestrator>(
        o, p, [this](const std::string&) { return snapshot; }, sink);
  }
  std::shared_ptr<test::ScriptedAgent> add(std::string name, Action a, double conf,
                                           std::chrono::milliseconds timeout = 1000ms) {
    auto ag = std::make_shared<test::ScriptedAgent>(std::move(name), a, conf, timeout);
    orch->add_agent(ag);
    return ag;
  }
  SnapshotPtr snapshot;
  std::shared_ptr<test::RecordingSink> sink;
  std::unique_ptr<Orchestrator> orch;
};

TEST(Orchestrator, UnanimousPanelGivesSignalAndReportsEveryStep) {
  Fixture f;
  for (const char* n : {"A", "B", "C", "D"}) f.add(n, Action::Buy, 0.9);
  auto d = f.orch->request("AAPL", Trigger::Manual).get();
  ASSERT_TRUE(d->has_signal());
  EXPECT_EQ(d->consensus.action_name(), "BUY");
  EXPECT_EQ(d->ballots.size(), 4u);
  EXPECT_FALSE(d->signal_id.empty());
  ASSERT_TRUE(f.sink->wait_decisions(1));
  std::lock_guard lk(f.sink->mu);
  std::map<std::string, int> by_signal;
  for (const auto& u : f.sink->updates) {
    EXPECT_EQ(u.analysis_id, d->analysis_id);
    ++by_signal[std::string(to_string(u.signal))];
  }
  EXPECT_EQ(by_signal["ANALYZING"], 1);
  EXPECT_EQ(by_signal["PROCESSING"], 4);
  EXPECT_EQ(by_signal["BUY"], 4);
  EXPECT_EQ(f.orch->counters().signals_generated, 1u);
}

TEST(Orchestrator, FaultsAreIsolatedWithAStatusAndAReason) {
  Fixture f;
  f.add("Good1", Action::Sell, 0.9);
  f.add("Good2", Action::Sell, 0.9);
  f.add("Good3", Action::Sell, 0.9);
  f.add("Thrower", Action::Buy, 0.9)->fail = true;
  f.add("NaN", Action::Buy, 0.9)->garbage = true;
  f.add("Quiet", Action::Buy, 0.9)->abstain = true;
  auto d = f.orch->request("AAPL", Trigger::Manual).get();
  std::map<std::string, Ballot> by;
  for (const auto& b : d->ballots) by[b.agent] = b;
  EXPECT_EQ(by["Thrower"].status, AgentStatus::Failed);
  EXPECT_NE(by["Thrower"].error.find("scripted failure"), std::string::npos);
  EXPECT_EQ(by["NaN"].status, AgentStatus::Failed);
  EXPECT_NE(by["NaN"].error.find("confidence nan"), std::string::npos);
  EXPECT_EQ(by["Quiet"].status, AgentStatus::Abstain);
  EXPECT_EQ(d->consensus.action_name(), "SELL");  // 3 valid votes meet quorum 2f+1 = 3 (n = 6)
}

TEST(Orchestrator, LateVoteNeverCountsAndNeverDelaysTheDecision) {
  Fixture f;
  for (const char* n : {"A", "B", "C"}) f.add(n, Action::Buy, 0.8);
  auto slow = std::make_shared<test::GatedAgent>("Slow", 50ms);
  f.orch->add_agent(slow);
  // The slow agent is released only after the decision exists: the decision cannot wait for it.
  auto d = f.orch->request("AAPL", Trigger::Manual).get();
  slow->release();
  std::map<std::string, Ballot> by;
  for (const auto& b : d->ballots) by[b.agent] = b;
  EXPECT_EQ(by["Slow"].status, AgentStatus::Timeout);
  EXPECT_FALSE(by["Slow"].vote.has_value());
  EXPECT_EQ(d->consensus.action_name(), "BUY");
  // Its late answer shows up only in its statistics.
  for (int i = 0; i < 200; ++i) {
    auto stats = f.orch->agent_stats();
    auto it = std::find_if(stats.begin(), stats.end(), [](auto& s) { return s.name == "Slow"; });
    if (it->late == 1) {
      EXPECT_EQ(it->timeouts, 1u);
      return;
    }
    std::this_thread::sleep_for(5ms);
  }
  FAIL() << "the late answer was never recorded";
}

TEST(Orchestrator, TriggersWhileInFlightCoalesceIntoOneFollowUp) {
  Fixture f;
  for (const char* n : {"A", "B", "C"}) f.add(n, Action::Hold, 0.9);
  auto gate = std::make_shared<test::GatedAgent>("Gate", 2000ms);
  f.orch->add_agent(gate);
  auto first = f.orch->request("AAPL", Trigger::Manual);
  std::vector<std::shared_future<DecisionPtr>> more;
  for (int i = 0; i < 10; ++i) more.push_back(f.orch->request("AAPL", Trigger::Move));
  gate->release();
  auto d1 = first.get();
  for (auto& m : more)
    EXPECT_EQ(m.get()->analysis_id, d1->analysis_id);  // joined the one in flight
  f.orch->wait_idle("AAPL");
  EXPECT_EQ(f.orch->counters().analyses_completed, 2u);  // the original and one follow-up
  EXPECT_EQ(f.orch->counters().coalesced, 9u);
}

TEST(Orchestrator, CircuitBreakerOpensAlertsAndClosesAfterCooldown) {
  OrchestratorOptions o;
  o.breaker_faults = 2;
  o.breaker_cooldown = 150ms;
  Fixture f(o);
  for (const char* n : {"A", "B", "C"}) f.add(n, Action::Buy, 0.9);
  auto flaky = f.add("Flaky", Action::Buy, 0.9);
  flaky->fail = true;
  f.orch->request("AAPL", Trigger::Manual).get();
  f.orch->wait_idle("AAPL");
  f.orch->request("AAPL", Trigger::Manual).get();
  f.orch->wait_idle("AAPL");
  auto d3 = f.orch->request("AAPL", Trigger::Manual).get();
  f.orch->wait_idle("AAPL");
  auto it = std::find_if(d3->ballots.begin(), d3->ballots.end(),
                         [](const Ballot& b) { return b.agent == "Flaky"; });
  EXPECT_EQ(it->status, AgentStatus::Disabled);
  EXPECT_EQ(flaky->calls.load(), 2);
  EXPECT_EQ(d3->consensus.total_agents, 3);  // a disabled agent is not among the n enabled
  {
    std::lock_guard lk(f.sink->mu);
    ASSERT_FALSE(f.sink->alerts.empty());
    EXPECT_EQ(f.sink->alerts.front().code, "agent_disabled");
  }
  flaky->fail = false;
  std::this_thread::sleep_for(200ms);
  auto d4 = f.orch->request("AAPL", Trigger::Manual).get();
  f.orch->wait_idle("AAPL");
  it = std::find_if(d4->ballots.begin(), d4->ballots.end(),
                    [](const Ballot& b) { return b.agent == "Flaky"; });
  EXPECT_EQ(it->status, AgentStatus::Ok);
  std::lock_guard lk(f.sink->mu);
  EXPECT_EQ(f.sink->alerts.back().code, "agent_enabled");
}

TEST(Orchestrator, RejectsBadAgentsAndDuplicateNames) {
  Fixture f;
  f.add("A", Action::Buy, 0.9);
  EXPECT_THROW(f.add("A", Action::Buy, 0.9), InvalidArgument);
  EXPECT_THROW(f.orch->add_agent(nullptr), InvalidArgument);
  EXPECT_THROW(f.add("Z", Action::Buy, 0.9, -1ms), InvalidArgument);
  EXPECT_THROW(f.add("Y", Action::Buy, 0.9, 2h), InvalidArgument);
  EXPECT_TRUE(f.orch->remove_agent("A"));
  EXPECT_FALSE(f.orch->remove_agent("A"));
}

TEST(Orchestrator, NoDataIsANoSignalWithAReason) {
  Fixture f;
  f.snapshot = nullptr;
  f.add("A", Action::Buy, 0.9);
  auto d = f.orch->request("AAPL", Trigger::Manual).get();
  EXPECT_FALSE(d->has_signal());
  EXPECT_NE(d->consensus.reason.find("no market data"), std::string::npos);
}

TEST(Orchestrator, StopRefusesNewWork) {
  Fixture f;
  f.add("A", Action::Buy, 0.9);
  f.orch->stop();
  EXPECT_THROW(f.orch->request("AAPL", Trigger::Manual), StateError);
}

}  // namespace
}  // namespace gs
