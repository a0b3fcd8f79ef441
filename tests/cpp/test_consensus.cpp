// The consensus rules on hand-made panels, then its guarantees on thousands of random panels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "goldensignals/consensus/consensus.hpp"
#include "goldensignals/consensus/consensus_json.hpp"
#include "goldensignals/core/errors.hpp"

namespace gs {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kPanels = 5000;  // random panels per property

Ballot vote(std::string name, Action a, double confidence, double weight = 1.0,
            std::vector<std::string> reasoning = {}) {
  Ballot b;
  b.agent = std::move(name);
  b.weight = weight;
  b.status = AgentStatus::Ok;
  b.vote = Vote{a, confidence, std::move(reasoning), std::nullopt, std::nullopt};
  return b;
}

Ballot non_vote(std::string name, AgentStatus s, double weight = 1.0) {
  Ballot b;
  b.agent = std::move(name);
  b.weight = weight;
  b.status = s;
  return b;
}

ConsensusPolicy policy(double threshold = 0.7, int min_agents = 3, double min_confidence = 0.6) {
  ConsensusPolicy p;
  p.threshold = threshold;
  p.min_agents = min_agents;
  p.min_confidence = min_confidence;
  return p;
}

ConsensusResult run(const std::vector<Ballot>& b, const ConsensusPolicy& p = {},
                    double price = kNaN, double atr = kNaN) {
  return decide(b, p, price, atr);
}

// ---------------------------------------------------------------- rules on hand-made panels

TEST(Consensus, OnlyValidVotesCount) {
  std::vector<Ballot> b{vote("a", Action::Buy, 0.8),
                        vote("b", Action::Buy, 0.8),
                        vote("c", Action::Buy, 0.8),
                        vote("weak", Action::Sell, 0.59),
                        non_vote("abstain", AgentStatus::Abstain),
                        non_vote("late", AgentStatus::Timeout),
                        non_vote("off", AgentStatus::Disabled)};
  auto r = run(b);
  EXPECT_EQ(r.action_name(), "BUY");
  EXPECT_EQ(r.total_agents, 6);
  EXPECT_EQ(r.completed_agents, 5);
  EXPECT_EQ(r.valid_votes, 3);
  EXPECT_DOUBLE_EQ(r.agreement, 1.0);  // the weak SELL has no say
  EXPECT_EQ(r.faulty_agents, std::vector<std::string>{"late"});
  auto j = agents_consensus_json(r, b);
  EXPECT_EQ(j["agent_details"].size(), 7u);
  EXPECT_EQ(j["agent_details"]["weak"]["counted"], false);
  EXPECT_EQ(j["agent_details"]["weak"]["signal"], "SELL");
  EXPECT_EQ(j["agent_details"]["a"]["counted"], true);
}

TEST(Consensus, MalformedVotesDoNotCount) {
  auto bad = vote("nan", Action::Sell, kNaN);
  auto over = vote("over", Action::Sell, 1.5);
  auto r = run({vote("a", Action::Buy, 0.8), vote("b", Action::Buy, 0.8),
                vote("c", Action::Buy, 0.8), bad, over});
  EXPECT_EQ(r.valid_votes, 3);
  EXPECT_EQ(r.action_name(), "BUY");
  EXPECT_DOUBLE_EQ(r.agreement, 1.0);
}

TEST(Consensus, QuorumIsMaxOfMinAgentsAndTwoFPlusOne) {
  std::vector<Ballot> b{vote("a", Action::Buy, 0.9), vote("b", Action::Buy, 0.9),
                        non_vote("c", AgentStatus::Abstain), non_vote("d", AgentStatus::Failed),
                        non_vote("e", AgentStatus::Timeout)};
  auto r = run(b);
  EXPECT_FALSE(r.action);
  EXPECT_EQ(r.quorum, 3);
  EXPECT_EQ(r.reason, "quorum not reached: 2 of 5 agents voted (need 3)");
  EXPECT_EQ(r.strength, Strength::Weak);
  EXPECT_EQ(r.confidence, 0.0);

  // n = 7: f = 2, so 5 votes are needed even though min_agents is 3.
  std::vector<Ballot> seven;
  for (int i = 0; i < 4; ++i) seven.push_back(vote("v" + std::to_string(i), Action::Buy, 0.9));
  for (int i = 0; i < 3; ++i)
    seven.push_back(non_vote("x" + std::to_string(i), AgentStatus::Abstain));
  r = run(seven);
  EXPECT_EQ(r.quorum, 5);
  EXPECT_FALSE(r.action);
  // Disabled agents are not part of n: 4 enabled agents need max(3, 3) votes.
  for (int i = 0; i < 3; ++i) seven[4 + i].status = AgentStatus::Disabled;
  r = run(seven);
  EXPECT_EQ(r.total_agents, 4);
  EXPECT_EQ(r.quorum, 3);
  EXPECT_EQ(r.action_name(), "BUY");
  // min_agents above 2f + 1 rules.
  r = run(seven, policy(0.7, 5));
  EXPECT_EQ(r.quorum, 5);
  EXPECT_FALSE(r.action);

  r = run({}, policy(0.7, 1));
  EXPECT_EQ(r.quorum, 1);
  EXPECT_EQ(r.reason, "quorum not reached: 0 of 0 agents voted (need 1)");
}

TEST(Consensus, ScoresAreWeightTimesConfidence) {
  // BUY 2 * 0.9 = 1.8 against SELL 3 * 0.7 = 2.1: the heavier, less confident SELL leads.
  std::vector<Ballot> b{vote("a", Action::Buy, 0.9), vote("b", Action::Buy, 0.9),
                        vote("c", Action::Sell, 0.7, 3.0)};
  auto r = run(b, policy(0.5));
  EXPECT_EQ(r.action_name(), "SELL");
  EXPECT_NEAR(r.agreement, 2.1 / 3.9, 1e-12);
  EXPECT_EQ(r.agreeing_agents, 1);
}

TEST(Consensus, AgreementBelowThresholdIsNoSignal) {
  std::vector<Ballot> b{vote("a", Action::Buy, 1.0, 0.55), vote("b", Action::Sell, 1.0, 0.45)};
  auto r = run(b, policy(0.7, 2));
  EXPECT_FALSE(r.action);
  EXPECT_DOUBLE_EQ(r.agreement, 0.55);
  EXPECT_EQ(r.reason, "agreement 0.55 below threshold 0.70 (BUY 0.55, SELL 0.45)");
  // Enough decimals are shown to tell the two numbers apart.
  b = {vote("a", Action::Buy, 1.0, 0.699), vote("b", Action::Sell, 1.0, 0.301)};
  r = run(b, policy(0.7, 2));
  EXPECT_EQ(r.reason, "agreement 0.699 below threshold 0.700 (BUY 0.699, SELL 0.301)");
}

TEST(Consensus, TieIsNoSignal) {
  auto r = run({vote("a", Action::Buy, 0.8), vote("b", Action::Sell, 0.8)}, policy(0.5, 2));
  EXPECT_FALSE(r.action);
  EXPECT_DOUBLE_EQ(r.agreement, 0.5);
  EXPECT_EQ(r.reason, "tie: BUY and SELL have equal scores (BUY 0.50, SELL 0.50)");
}

TEST(Consensus, ThresholdBelowHalfActsAsHalf) {
  std::vector<Ballot> b{vote("a", Action::Buy, 1.0, 0.45), vote("b", Action::Sell, 1.0, 0.35),
                        vote("c", Action::Hold, 1.0, 0.2)};
  auto r = run(b, policy(0.2));
  EXPECT_FALSE(r.action);
  EXPECT_NE(r.reason.find("below threshold 0.50"), std::string::npos) << r.reason;
}

TEST(Consensus, ZeroScoreIsNoSignal) {
  auto r = run(
      {vote("a", Action::Buy, 0.0), vote("b", Action::Buy, 0.0), vote("c", Action::Sell, 0.9, 0.0)},
      policy(0.7, 3, 0.0));
  EXPECT_FALSE(r.action);
  EXPECT_EQ(r.valid_votes, 3);
  EXPECT_EQ(r.agreement, 0.0);
  EXPECT_NE(r.reason.find("no weight"), std::string::npos);
}

TEST(Consensus, ConfidenceIsLowerWeightedMedianTimesAgreement) {
  auto r =
      run({vote("a", Action::Buy, 0.7), vote("b", Action::Buy, 0.8), vote("c", Action::Buy, 0.95)});
  EXPECT_DOUBLE_EQ(r.confidence, 0.8);
  // Even split: the lower of the two.
  r = run({vote("a", Action::Buy, 0.7), vote("b", Action::Buy, 0.9)}, policy(0.7, 2));
  EXPECT_DOUBLE_EQ(r.confidence, 0.7);
  // Weight moves the median.
  r = run({vote("a", Action::Buy, 0.7), vote("b", Action::Buy, 0.9, 3.0)}, policy(0.7, 2));
  EXPECT_DOUBLE_EQ(r.confidence, 0.9);
  // A zero-weight winner has no say in the median.
  r = run({vote("a", Action::Buy, 0.7, 0.0), vote("b", Action::Buy, 0.9)}, policy(0.7, 2));
  EXPECT_DOUBLE_EQ(r.confidence, 0.9);
  // Scaled by agreement: 2.7 of 3.3.
  r = run({vote("a", Action::Buy, 0.9), vote("b", Action::Buy, 0.9), vote("c", Action::Buy, 0.9),
           vote("d", Action::Sell, 0.6)});
  EXPECT_NEAR(r.confidence, 0.9 * 2.7 / 3.3, 1e-12);
  // Capped.
  r = run({vote("a", Action::Buy, 1.0), vote("b", Action::Buy, 1.0), vote("c", Action::Buy, 1.0)});
  EXPECT_EQ(r.confidence, 0.99);
}

TEST(Consensus, Strength) {
  // n = 4, f = 1: STRONG needs agreement >= 0.8 and 3 agreeing agents.
  auto r = run({vote("a", Action::Buy, 0.9), vote("b", Action::Buy, 0.9),
                vote("c", Action::Buy, 0.9), vote("d", Action::Sell, 0.6)});
  EXPECT_EQ(r.strength, Strength::Strong);
  r = run({vote("a", Action::Buy, 0.9, 10.0), vote("b", Action::Buy, 0.9, 10.0),
           vote("c", Action::Sell, 0.7, 0.1), non_vote("d", AgentStatus::Abstain)});
  EXPECT_GT(r.agreement, 0.99);
  EXPECT_EQ(r.agreeing_agents, 2);
  EXPECT_EQ(r.strength, Strength::Moderate);
  r = run({vote("a", Action::Buy, 0.9), vote("b", Action::Buy, 0.9), vote("c", Action::Buy, 0.9),
           vote("d", Action::Sell, 0.9)});
  EXPECT_DOUBLE_EQ(r.agreement, 0.75);
  EXPECT_EQ(r.strength, Strength::Moderate);
  EXPECT_EQ(to_string(Strength::Strong), "STRONG");
}

TEST(Consensus, TargetsFromAgentsWeightedMedian) {
  auto a = vote("a", Action::Buy, 0.9);
  a.vote->target_price = 110.0;
  a.vote->stop_loss = 95.0;
  auto b = vote("b", Action::Buy, 0.9, 2.0);
  b.vote->target_price = 120.0;
  auto c = vote("c", Action::Buy, 0.9);  // no levels of its own
  auto r = run({a, b, c}, {}, 100.0, 2.0);
  EXPECT_EQ(r.target_price, 120.0);  // weight 2 of 3 at 120
  EXPECT_EQ(r.stop_loss, 95.0);      // only a gave a stop
}

TEST(Consensus, TargetsFromAtr) {
  std::vector<Ballot> buy{vote("a", Action::Buy, 0.9), vote("b", Action::Buy, 0.9),
                          vote("c", Action::Buy, 0.9)};
  auto r = run(buy, {}, 100.0, 2.0);
  EXPECT_EQ(r.target_price, 104.0);
  EXPECT_EQ(r.stop_loss, 98.0);
  std::vector<Ballot> sell{vote("a", Action::Sell, 0.9), vote("b", Action::Sell, 0.9),
                           vote("c", Action::Sell, 0.9)};
  r = run(sell, {}, 100.0, 2.0);
  EXPECT_EQ(r.target_price, 96.0);
  EXPECT_EQ(r.stop_loss, 102.0);
  std::vector<Ballot> hold{vote("a", Action::Hold, 0.9), vote("b", Action::Hold, 0.9),
                           vote("c", Action::Hold, 0.9)};
  r = run(hold, {}, 100.0, 2.0);
  EXPECT_FALSE(r.target_price);
  EXPECT_FALSE(r.stop_loss);
  // Never a price <= 0: omitted instead.
  r = run(buy, {}, 10.0, 20.0);
  EXPECT_EQ(r.target_price, 50.0);
  EXPECT_FALSE(r.stop_loss);
  r = run(sell, {}, 10.0, 20.0);
  EXPECT_FALSE(r.target_price);
  EXPECT_EQ(r.stop_loss, 30.0);
  // Unknown price or ATR: no levels.
  r = run(buy, {}, kNaN, 2.0);
  EXPECT_FALSE(r.target_price);
  r = run(buy, {}, 100.0, 0.0);
  EXPECT_FALSE(r.stop_loss);
}

TEST(Consensus, ReasoningStrongestFirstDeduplicatedTiesByName) {
  auto r = run({vote("z", Action::Buy, 0.7, 1.0, {"z1", "shared"}),
                vote("b", Action::Buy, 0.9, 1.0, {"b1", "shared"}),
                vote("a", Action::Buy, 0.9, 1.0, {"a1"}),
                vote("s", Action::Sell, 0.6, 0.1, {"sell reason"})});
  EXPECT_EQ(r.reasoning, (std::vector<std::string>{"a1", "b1", "shared", "z1"}));
}

TEST(Consensus, FaultyAgentsInBallotOrder) {
  auto r = run({non_vote("t", AgentStatus::Timeout), vote("a", Action::Buy, 0.9),
                non_vote("f", AgentStatus::Failed), non_vote("d", AgentStatus::Disabled),
                non_vote("b", AgentStatus::Timeout)});
  EXPECT_EQ(r.faulty_agents, (std::vector<std::string>{"t", "f", "b"}));
}

TEST(Consensus, RejectsBadPolicyAndWeights) {
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::vector<Ballot> b{vote("a", Action::Buy, 0.9)};
  auto p = policy();
  p.min_confidence = 1.5;
  EXPECT_EQ(message([&] { run(b, p); }),
            "consensus policy: min_confidence 1.5 is not accepted; expected a number in [0, 1]");
  p = policy(kNaN);
  EXPECT_NE(message([&] { run(b, p); }).find("threshold nan"), std::string::npos);
  p = policy(0.7, 0);
  EXPECT_NE(message([&] { run(b, p); }).find("min_agents 0"), std::string::npos);
  p = policy();
  p.stop_atr = -1;
  EXPECT_NE(message([&] { run(b, p); }).find("stop_atr -1"), std::string::npos);
  p = policy();
  p.target_atr = std::numeric_limits<double>::infinity();
  EXPECT_NE(message([&] { run(b, p); }).find("target_atr inf"), std::string::npos);

  b[0].weight = -2.0;
  EXPECT_EQ(message([&] { run(b); }),
            "agent 'a': weight -2 is not accepted; expected a finite number >= 0");
  b[0].weight = kNaN;
  EXPECT_NE(message([&] { run(b); }).find("agent 'a': weight nan"), std::string::npos);
  b = {vote("a", Action::Buy, 0.9), vote("a", Action::Sell, 0.9)};
  EXPECT_NE(message([&] { run(b); }).find("'a' appears more than once"), std::string::npos);
}

TEST(ConsensusJson, AgentsConsensusShape) {
  auto late = non_vote("late", AgentStatus::Timeout);
  late.error = "no answer within 1000 ms";
  late.latency_ms = kNaN;
  std::vector<Ballot> b{vote("a", Action::Buy, 0.9),         vote("b", Action::Buy, 0.8),
                        vote("c", Action::Buy, 0.7),         late,
                        non_vote("x", AgentStatus::Abstain), non_vote("f", AgentStatus::Failed),
                        non_vote("d", AgentStatus::Disabled)};
  b[0].latency_ms = 0.25;
  auto r = run(b, {}, 100.0, 2.0);
  auto j = agents_consensus_json(r, b);
  for (const char* key : {"total_agents", "completed_agents", "quorum", "agreement",
                          "consensus_strength", "faulty_agents", "valid_votes", "agent_details"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["total_agents"], 6);
  EXPECT_EQ(j["consensus_strength"], "STRONG");
  EXPECT_EQ(j["faulty_agents"], nlohmann::json({"late", "f"}));
  const auto& d = j["agent_details"];
  EXPECT_EQ(d["a"], nlohmann::json::parse(R"({"name":"a","signal":"BUY","confidence":0.9,
      "weight":1.0,"status":"ok","latency_ms":0.25,"counted":true})"));
  EXPECT_EQ(d["late"], nlohmann::json::parse(R"({"name":"late","signal":"TIMEOUT","confidence":0.0,
      "weight":1.0,"status":"timeout","counted":false,"error":"no answer within 1000 ms"})"));
  EXPECT_EQ(d["x"]["signal"], "ABSTAIN");
  EXPECT_EQ(d["f"]["signal"], "FAILED");
  EXPECT_EQ(d["d"]["signal"], "DISABLED");
  EXPECT_FALSE(d["x"].contains("error"));

  auto full = consensus_result_json(r, b);
  EXPECT_EQ(full["action"], "BUY");
  EXPECT_EQ(full["target_price"], 104.0);
  EXPECT_EQ(full["stop_loss"], 98.0);
  EXPECT_FALSE(full.contains("reason"));
  EXPECT_NO_THROW((void)full.dump());

  b.resize(2);
  r = run(b);
  full = consensus_result_json(r, b);
  EXPECT_EQ(full["action"], "NO_SIGNAL");
  EXPECT_EQ(full["confidence"], 0.0);
  EXPECT_EQ(full["reason"], "quorum not reached: 2 of 2 agents voted (need 3)");
  EXPECT_FALSE(full.contains("target_price"));
}

// ---------------------------------------------------------------- random panels

class Gen {
 public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}
  std::mt19937_64& rng() { return rng_; }
  double uni(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  int integer(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng_); }
  bool chance(double p) { return uni(0.0, 1.0) < p; }
  Action action() { return static_cast<Action>(integer(0, 2)); }
  // Grid values half the time, so exact ties and thresholds are hit often.
  double confidence() {
    static const double grid[] = {0.0, 0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0};
    return chance(0.5) ? grid[integer(0, 8)] : uni(0.0, 1.0);
  }
  double dyadic_weight() { return integer(0, 16) / 4.0; }

  ConsensusPolicy policy() {
    static const double thresholds[] = {0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0};
    ConsensusPolicy p;
    p.min_confidence = chance(0.5) ? 0.5 + 0.1 * integer(0, 2) : uni(0.0, 1.0);
    p.threshold = chance(0.5) ? thresholds[integer(0, 6)] : uni(0.0, 1.0);
    p.min_agents = integer(1, 5);
    p.target_atr = uni(0.0, 3.0);
    p.stop_atr = uni(0.0, 3.0);
    return p;
  }
  double price() { return chance(0.25) ? kNaN : chance(0.5) ? 100.0 : uni(1.0, 200.0); }
  double atr() { return chance(0.1) ? kNaN : uni(0.0, 60.0); }

  Ballot ballot(std::string name, bool real_weights) {
    Ballot b;
    b.agent = std::move(name);
    b.weight = real_weights ? uni(0.01, 5.0) : dyadic_weight();
    b.latency_ms = uni(0.0, 50.0);
    const double s = uni(0.0, 1.0);
    b.status = s < 0.75   ? AgentStatus::Ok
               : s < 0.82 ? AgentStatus::Abstain
               : s < 0.89 ? AgentStatus::Timeout
               : s < 0.96 ? AgentStatus::Failed
                          : AgentStatus::Disabled;
    if (b.status == AgentStatus::Ok) {
      Vote v;
      v.action = action();
      v.confidence = real_weights ? uni(0.3, 1.0) : confidence();
      std::vector<std::string> why;
      for (int i = integer(0, 2); i > 0; --i) why.push_back("r" + std::to_string(integer(0, 5)));
      v.reasoning = std::move(why);
      if (chance(0.3)) v.target_price = uni(50.0, 150.0);
      if (chance(0.3)) v.stop_loss = uni(50.0, 150.0);
      b.vote = std::move(v);
    } else if (b.status != AgentStatus::Abstain) {
      b.error = "boom";
    }
    return b;
  }
  std::vector<Ballot> panel(int max_n, bool real_weights = false) {
    std::vector<Ballot> out;
    for (int i = integer(0, max_n); i > 0; --i) {
      out.push_back(ballot("agent" + std::to_string(out.size()), real_weights));
    }
    if (chance(0.5)) {  // half the panels lean one way, so that many reach a signal
      const Action favourite = action();
      for (auto& b : out) {
        if (b.vote && chance(0.7)) b.vote->action = favourite;
      }
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
};

// Everything decide() reports, as JSON; faulty_agents sorted, since only their order may change.
nlohmann::json canon(const ConsensusResult& r, const std::vector<Ballot>& b) {
  auto j = consensus_result_json(r, b);
  auto faulty = r.faulty_agents;
  std::sort(faulty.begin(), faulty.end());
  j["faulty_agents"] = faulty;
  j["counted_agents"] = r.counted_agents;
  return j;
}

bool all_finite(const nlohmann::json& j) {
  if (j.is_number_float()) return std::isfinite(j.get<double>());
  if (j.is_structured()) {
    return std::all_of(j.begin(), j.end(), [](const auto& x) { return all_finite(x); });
  }
  return true;
}

TEST(ConsensusProperty, InvariantsOfEveryResult) {
  Gen g(1);
  for (int i = 0; i < kPanels; ++i) {
    auto b = g.panel(12);
    auto p = g.policy();
    auto r = decide(b, p, g.price(), g.atr());
    const int n = r.total_agents;
    const int f = n > 0 ? (n - 1) / 3 : 0;
    ASSERT_EQ(r.quorum, std::max(p.min_agents, 2 * f + 1)) << i;
    ASSERT_GE(r.confidence, 0.0) << i;
    ASSERT_LE(r.confidence, 0.99) << i;
    ASSERT_GE(r.agreement, 0.0) << i;
    ASSERT_LE(r.agreement, 1.0) << i;
    if (r.valid_votes < r.quorum) {
      ASSERT_FALSE(r.action) << i;
    }
    if (r.action) {
      ASSERT_TRUE(r.reason.empty()) << i;
      ASSERT_GE(r.valid_votes, r.quorum) << i;
      ASSERT_GE(r.agreement, std::max(p.threshold, 0.5)) << i;
      ASSERT_NE(r.strength, Strength::Weak) << i;
    } else {
      ASSERT_FALSE(r.reason.empty()) << i;
      ASSERT_EQ(r.strength, Strength::Weak) << i;
      ASSERT_EQ(r.confidence, 0.0) << i;
    }
    for (auto level : {r.target_price, r.stop_loss}) {
      if (level) {
        ASSERT_TRUE(std::isfinite(*level) && *level > 0.0) << i;
      }
    }
    ASSERT_TRUE(all_finite(canon(r, b))) << i << ": " << canon(r, b).dump();
  }
}

TEST(ConsensusProperty, PermutationInvariance) {
  Gen g(2);
  for (int i = 0; i < kPanels; ++i) {
    auto b = g.panel(12, g.chance(0.3));
    auto p = g.policy();
    const double price = g.price(), atr = g.atr();
    auto before = canon(decide(b, p, price, atr), b);
    std::shuffle(b.begin(), b.end(), g.rng());
    ASSERT_EQ(before, canon(decide(b, p, price, atr), b)) << i;
  }
}

nlohmann::json without_details(nlohmann::json j) {
  j.erase("agent_details");
  return j;
}

TEST(ConsensusProperty, ScalingWeightsByPowersOfTwoChangesNothing) {
  Gen g(3);
  for (int i = 0; i < kPanels; ++i) {
    auto b = g.panel(12, g.chance(0.3));
    auto p = g.policy();
    const double price = g.price(), atr = g.atr();
    auto before = without_details(canon(decide(b, p, price, atr), b));
    const double k = std::ldexp(1.0, g.integer(-30, 30));
    for (auto& x : b) x.weight *= k;
    ASSERT_EQ(before, without_details(canon(decide(b, p, price, atr), b))) << i << " k=" << k;
  }
}

TEST(ConsensusProperty, ScalingWeightsByAnyFactorChangesNothingBeyondRounding) {
  Gen g(4);
  int compared = 0, signals = 0;
  for (int i = 0; i < kPanels; ++i) {
    auto b = g.panel(12, true);
    auto p = g.policy();
    const double price = g.price(), atr = g.atr();
    auto r1 = decide(b, p, price, atr);
    const double k = std::exp(g.uni(std::log(1e-3), std::log(1e3)));
    for (auto& x : b) x.weight *= k;
    auto r2 = decide(b, p, price, atr);
    const double thr = std::max(p.threshold, 0.5);
    // Exempt: agreement on a boundary, where one rounding step may cross it.
    if (std::abs(r1.agreement - thr) < 1e-9 || std::abs(r1.agreement - 0.8) < 1e-9) continue;
    ++compared;
    signals += r1.action.has_value();
    ASSERT_NEAR(r1.agreement, r2.agreement, 1e-12) << i;
    ASSERT_EQ(r1.action_name(), r2.action_name()) << i;
    ASSERT_EQ(r1.strength, r2.strength) << i;
    ASSERT_NEAR(r1.confidence, r2.confidence, 1e-12) << i;
    ASSERT_EQ(r1.reason.empty(), r2.reason.empty()) << i;
    ASSERT_EQ(r1.reasoning, r2.reasoning) << i;
    ASSERT_EQ(r1.counted_agents, r2.counted_agents) << i;
    ASSERT_EQ(r1.agreeing_agents, r2.agreeing_agents) << i;
    ASSERT_EQ(r1.target_price.has_value(), r2.target_price.has_value()) << i;
    if (r1.target_price) {
      ASSERT_NEAR(*r1.target_price, *r2.target_price, 1e-9) << i;
    }
    ASSERT_EQ(r1.stop_loss.has_value(), r2.stop_loss.has_value()) << i;
    if (r1.stop_loss) {
      ASSERT_NEAR(*r1.stop_loss, *r2.stop_loss, 1e-9) << i;
    }
  }
  EXPECT_GT(compared, kPanels * 9 / 10);
  EXPECT_GT(signals, kPanels / 10);
}

TEST(ConsensusProperty, ThresholdBelowHalfActsAsHalf) {
  Gen g(5);
  for (int i = 0; i < kPanels; ++i) {
    auto b = g.panel(12);
    auto p = g.policy();
    p.threshold = g.chance(0.2) ? 0.0 : g.uni(0.0, 0.5);
    auto half = p;
    half.threshold = 0.5;
    ASSERT_EQ(canon(decide(b, p, 100.0, 2.0), b), canon(decide(b, half, 100.0, 2.0), b)) << i;
  }
}

int rank(Strength s) { return s == Strength::Strong ? 2 : s == Strength::Moderate ? 1 : 0; }

TEST(ConsensusProperty, AddingAHoldNeverStrengthensABuy) {
  Gen g(6);
  int buys = 0;
  for (int i = 0; i < kPanels * 20 && buys < kPanels; ++i) {
    auto b = g.panel(12);
    for (auto& x : b) {  // lean towards BUY so most panels start from one
      if (x.vote && g.chance(0.6)) x.vote->action = Action::Buy;
    }
    auto p = g.policy();
    auto r1 = decide(b, p, 100.0, 2.0);
    if (r1.action != Action::Buy) continue;
    ++buys;
    Ballot hold = g.ballot("added", g.chance(0.5));
    hold.status = AgentStatus::Ok;
    hold.vote = Vote{Action::Hold, g.confidence(), {"wait"}, std::nullopt, std::nullopt};
    b.insert(b.begin() + g.integer(0, static_cast<int>(b.size())), hold);
    auto r2 = decide(b, p, 100.0, 2.0);
    ASSERT_TRUE(r2.action != Action::Sell) << i;
    if (r2.action == Action::Buy) {
      ASSERT_LE(r2.agreement, r1.agreement) << i;
      ASSERT_LE(r2.confidence, r1.confidence) << i;
      ASSERT_LE(rank(r2.strength), rank(r1.strength)) << i;
    }
  }
  EXPECT_EQ(buys, kPanels);
}

// Honest agents all vote one action (BUY, SELL or HOLD) with confidence >= max(min_confidence,
// 0.5); Byzantine agents do anything (action, confidence, status), with total weight at most half
// the honest total. Weights are in 1/8 units, so the bound holds exactly, and often with equality.
struct Panel {
  std::vector<Ballot> ballots;
  Action honest;
};

Panel byzantine_panel(Gen& g, const ConsensusPolicy& p, bool equal_weights) {
  Panel out;
  out.honest = g.action();
  const Action opposite = out.honest == Action::Buy ? Action::Sell : Action::Buy;
  const Action other = out.honest == Action::Hold ? g.action() : opposite;
  const double low = std::max(p.min_confidence, 0.5);
  const int honest = g.integer(1, 10);
  int budget = 0;  // eighths
  for (int i = 0; i < honest; ++i) {
    const int u = equal_weights ? 8 : g.integer(1, 32);
    budget += u;
    const double c = g.chance(0.3) ? low : g.uni(low, 1.0);
    out.ballots.push_back(vote("honest" + std::to_string(i), out.honest, c, u / 8.0));
  }
  budget /= 2;
  // Equal weights: floor(honest / 2) liars, i.e. up to f of 3f + 1 (and of 3f + 2, 3f + 3).
  const int byzantine = equal_weights ? budget / 8 : g.integer(0, 10);
  int left = g.chance(0.5) ? budget : g.integer(0, budget);
  for (int i = 0; i < byzantine; ++i) {
    int u = 8;
    if (!equal_weights) {
      u = i + 1 == byzantine ? left : g.integer(0, left);
      left -= u;
    }
    Ballot b = g.ballot("byz" + std::to_string(i), false);
    b.weight = u / 8.0;
    if (b.status == AgentStatus::Ok && g.chance(0.7)) {
      b.vote->action = g.chance(0.8) ? other : g.action();
      b.vote->confidence = g.chance(0.5) ? 1.0 : g.uni(0.0, 1.0);
    }
    if (b.status == AgentStatus::Ok && g.chance(0.05)) b.vote->confidence = g.uni(1.0, 10.0);
    out.ballots.push_back(std::move(b));
  }
  std::shuffle(out.ballots.begin(), out.ballots.end(), g.rng());
  return out;
}

void check_byzantine_safety(std::uint64_t seed, bool equal_weights) {
  Gen g(seed);
  int signals = 0;
  for (int i = 0; i < kPanels; ++i) {
    auto p = g.policy();
    auto panel = byzantine_panel(g, p, equal_weights);
    auto r = decide(panel.ballots, p, 100.0, 2.0);
    // Stronger than "never the opposite": the honest action or nothing.
    ASSERT_TRUE(!r.action || r.action == panel.honest)
        << "panel " << i << ": " << canon(r, panel.ballots).dump();
    signals += r.action == panel.honest;
  }
  EXPECT_GT(signals, kPanels / 10);  // the panels are not all trivially NO_SIGNAL
}

TEST(ConsensusProperty, ByzantineMinorityNeverFlipsTheSignal) { check_byzantine_safety(7, false); }

TEST(ConsensusProperty, ByzantineUpToFOfThreeFPlusOneEqualWeights) {
  check_byzantine_safety(8, true);
  // The boundary itself: f liars, confidence 1, against 2f + 1 honest agents at 0.5.
  for (int f = 0; f <= 10; ++f) {
    std::vector<Ballot> b;
    for (int i = 0; i < 2 * f + 1; ++i)
      b.push_back(vote("h" + std::to_string(i), Action::Buy, 0.5));
    for (int i = 0; i < f; ++i) b.push_back(vote("z" + std::to_string(i), Action::Sell, 1.0));
    auto r = decide(b, policy(0.0, 1, 0.0), kNaN, kNaN);
    EXPECT_NE(r.action, Action::Sell) << f;
  }
}

}  // namespace
}  // namespace gs
