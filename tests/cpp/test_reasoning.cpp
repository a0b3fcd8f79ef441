// Reasoning written when first read: once, shared by every copy, safe from many threads, and
// never for a vote nobody reads (what a backtest relies on to skip the formatting).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "goldensignals/agents/builtin.hpp"
#include "goldensignals/core/reasoning.hpp"
#include "goldensignals/market/market_state.hpp"
#include "goldensignals/orchestrator/orchestrator.hpp"
#include "test_support.hpp"

namespace gs {
namespace {

using Lines = Reasoning::Lines;

// A writer that counts its runs (the counter is shared, the rest captured by value).
Reasoning counted(std::shared_ptr<std::atomic<int>> runs, std::string text) {
  return Reasoning::later([runs, text] {
    runs->fetch_add(1);
    return Lines{text, text + " again"};
  });
}

TEST(Reasoning, WrittenOnFirstReadOnceAndSharedByCopies) {
  auto runs = std::make_shared<std::atomic<int>>(0);
  const Reasoning r = counted(runs, "x");
  const Reasoning copy = r;  // NOLINT(performance-unnecessary-copy-initialization): the point
  EXPECT_TRUE(r.pending());
  EXPECT_TRUE(copy.pending());
  EXPECT_EQ(runs->load(), 0);
  EXPECT_EQ(copy.size(), 2u);  // any read writes the lines
  EXPECT_FALSE(r.pending());
  EXPECT_EQ(r.lines(), (Lines{"x", "x again"}));
  EXPECT_EQ(r.front(), "x");
  EXPECT_EQ(r[1], "x again");
  EXPECT_EQ(runs->load(), 1);
  // A copy made after the write shares it too.
  const Reasoning later_copy = r;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(later_copy, (Reasoning{"x", "x again"}));
  EXPECT_EQ(runs->load(), 1);
}

TEST(Reasoning, LinesGivenUpFrontAreNeverPending) {
  const Reasoning none;
  EXPECT_FALSE(none.pending());
  EXPECT_TRUE(none.empty());
  const Reasoning given(Lines{"a", "b"});
  EXPECT_FALSE(given.pending());
  EXPECT_EQ(given, (Reasoning{"a", "b"}));
  EXPECT_FALSE(given == (Reasoning{"a"}));
  std::vector<std::string> seen(given.begin(), given.end());
  EXPECT_EQ(seen, (Lines{"a", "b"}));
}

TEST(Reasoning, ManyThreadsReadingAtOnceRunTheWriterOnce) {
  for (int round = 0; round < 50; ++round) {
    auto runs = std::make_shared<std::atomic<int>>(0);
    const Reasoning r = counted(runs, "r" + std::to_string(round));
    std::atomic<int> ready{0};
    std::vector<std::thread> readers;
    std::vector<std::string> got(4);
    for (std::size_t t = 0; t < got.size(); ++t) {
      readers.emplace_back([&, t, mine = r] {  // each thread reads its own copy
        ready.fetch_add(1);
        while (ready.load() < static_cast<int>(got.size())) std::this_thread::yield();
        got[t] = mine.front() + "|" + mine[1];
      });
    }
    for (auto& th : readers) th.join();
    EXPECT_EQ(runs->load(), 1);
    for (const auto& g : got)
      EXPECT_EQ(g, "r" + std::to_string(round) + "|r" + std::to_string(round) + " again");
  }
}

// The built-in agents hand over a writer; what it writes depends only on the market the vote
// was made on, even once that market is gone.
TEST(Reasoning, BuiltinAgentsWriteWhenReadTheSameLinesLongAfterTheMarketMoved) {
  std::mt19937 rng(11);
  std::normal_distribution<double> step(0.0, 0.012);
  MarketState ms("TEST");
  const auto agents = make_builtin_agents();
  struct Kept {
    std::size_t agent;
    Vote vote;           // never read until the end
    Lines read_at_once;  // a second vote on the same market, read at once
  };
  std::vector<Kept> kept;
  double price = 100.0;
  for (int i = 0; i < 900; ++i) {
    const double open = price;
    price *= 1.0 + step(rng);
    Bar b;
    b.ts_ms = (i + 1) * 60'000LL;
    b.open = open;
    b.close = price;
    b.high = std::max(open, price) * 1.003;
    b.low = std::min(open, price) * 0.997;
    b.volume = 1e6 * (1.0 + 0.5 * std::abs(step(rng)) * 50.0);
    ms.on_bar(b);
    if (i % 7 != 0) continue;
    const AgentContext ctx{ms.snapshot(), "kept"};
    for (std::size_t k = 0; k < agents.size(); ++k) {
      auto v = agents[k]->analyze(ctx);
      if (!v) continue;
      EXPECT_TRUE(v->reasoning.pending()) << agents[k]->name();
      auto now = agents[k]->analyze(ctx);
      ASSERT_TRUE(now);
      kept.push_back({k, std::move(*v), now->reasoning.lines()});
    }
  }
  // 900 bars later (the 512-bar history has wrapped; every snapshot above is released).
  std::vector<int> per_agent(agents.size(), 0);
  for (const auto& k : kept) {
    ASSERT_TRUE(k.vote.reasoning.pending());
    EXPECT_EQ(k.vote.reasoning.lines(), k.read_at_once) << agents[k.agent]->name();
    EXPECT_FALSE(k.read_at_once.empty());
    ++per_agent[k.agent];
  }
  for (std::size_t a = 0; a < agents.size(); ++a) EXPECT_GT(per_agent[a], 50) << a;
}

// An agent whose vote's reasoning is written on first read, counting the writes.
class LazyAgent final : public Agent {
 public:
  LazyAgent(std::string name, Action a)
      : Agent(AgentSpec{std::move(name), 1.0, std::chrono::milliseconds(1000), AgentKind::Native}),
        action_(a) {}
  std::optional<Vote> analyze(const AgentContext&) const override {
    Vote v;
    v.action = action_;
    v.confidence = 0.8;
    v.reasoning = counted(runs, name() + " because");
    return v;
  }
  std::shared_ptr<std::atomic<int>> runs = std::make_shared<std::atomic<int>>(0);

 private:
  Action action_;
};

TEST(Reasoning, AnAnalysisWritesOnlyTheWinnersAndTheUpdatesShareTheVotes) {
  auto snap = std::make_shared<MarketSnapshot>();
  snap->symbol = "AAPL";
  snap->price = 100.0;
  snap->close = {99.0, 100.0};
  const SnapshotPtr market = snap;
  auto sink = std::make_shared<test::RecordingSink>();  // keeps updates, never reads them
  Orchestrator orch({}, {}, [&](const std::string&) { return market; }, sink);
  std::vector<std::shared_ptr<LazyAgent>> agents;
  for (const char* n : {"A", "B", "C"})
    agents.push_back(std::make_shared<LazyAgent>(n, Action::Buy));
  agents.push_back(std::make_shared<LazyAgent>("D", Action::Sell));
  for (const auto& a : agents) orch.add_agent(a);

  const auto d = orch.request("AAPL", Trigger::Manual).get();
  ASSERT_TRUE(d->has_signal());
  EXPECT_EQ(d->consensus.action_name(), "BUY");
  // The signal's reasoning is the winners' lines, so theirs were written; the loser's not.
  EXPECT_EQ(d->consensus.reasoning, (Lines{"A because", "A because again", "B because",
                                           "B because again", "C because", "C because again"}));
  for (int k = 0; k < 3; ++k) EXPECT_EQ(agents[k]->runs->load(), 1);
  EXPECT_EQ(agents[3]->runs->load(), 0);

  ASSERT_TRUE(sink->wait_decisions(1));
  std::lock_guard lk(sink->mu);
  const AgentUpdate* loser = nullptr;
  for (const auto& u : sink->updates) {
    if (u.agent == "D" && u.signal == AgentSignal::Sell) loser = &u;
  }
  ASSERT_NE(loser, nullptr);
  const auto& ballot = *std::find_if(d->ballots.begin(), d->ballots.end(),
                                     [](const Ballot& b) { return b.agent == "D"; });
  ASSERT_TRUE(ballot.vote);
  EXPECT_TRUE(ballot.vote->reasoning.pending());
  // Reading the update writes the vote's lines once, for both.
  EXPECT_EQ(loser->reasoning.lines(), (Lines{"D because", "D because again"}));
  EXPECT_FALSE(ballot.vote->reasoning.pending());
  EXPECT_EQ(ballot.vote->reasoning, loser->reasoning);
  EXPECT_EQ(agents[3]->runs->load(), 1);
}

}  // namespace
}  // namespace gs
