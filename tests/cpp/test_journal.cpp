// MemoryJournal: the journal of a server without history. Seqs per symbol from 1, deliveries
// in seq order even with many producers, a `since` answered recovered = false at once.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "goldensignals/store/journal.hpp"

namespace {

using namespace gs;

TEST(MemoryJournal, NumbersEachSymbolFromOneAndDeliversInSeqOrder) {
  std::mutex mu;
  std::map<std::string, std::vector<std::uint64_t>> seen;
  MemoryJournal j([&](std::vector<Journal::Step> steps, bool may_wait) {
    EXPECT_FALSE(may_wait);  // delivered under its lock
    std::lock_guard lk(mu);
    for (auto& s : steps) {
      const auto& p = std::get<Journal::Publication>(s);
      const auto& f = *p.frame;
      ASSERT_EQ(f.rfind("{\"seq\":", 0), 0u) << f;
      seen[p.symbol].push_back(std::stoull(f.substr(7)));
    }
  });
  constexpr int kThreads = 4, kEach = 2'000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      const std::string sym = t % 2 ? "AAPL" : "NVDA";
      for (int i = 0; i < kEach; ++i) {
        std::vector<std::pair<MessageKind, std::string>> items;
        items.emplace_back(MessageKind::SignalUpdate, R"({"type":"signal_update"})");
        items.emplace_back(MessageKind::DecisionUpdate, R"({"type":"decision_update"})");
        EXPECT_TRUE(j.append(sym, std::move(items)));
      }
    });
  }
  for (auto& p : producers) p.join();
  for (const auto* sym : {"AAPL", "NVDA"}) {
    const auto& s = seen[sym];
    ASSERT_EQ(s.size(), 2u * 2 * kEach) << sym;
    for (std::size_t i = 0; i < s.size(); ++i) ASSERT_EQ(s[i], i + 1) << sym;
    EXPECT_EQ(j.last_seq(sym), s.size());
  }
  EXPECT_EQ(j.last_seq("MSFT"), 0u);
}

TEST(MemoryJournal, SinceIsAnsweredNotRecoveredAtOnce) {
  MemoryJournal j([](std::vector<Journal::Step>, bool) {});
  std::vector<std::pair<MessageKind, std::string>> items;
  items.emplace_back(MessageKind::PriceUpdate, R"({"type":"price_update"})");
  j.append("AAPL", std::move(items));
  bool called = false;
  j.recover("AAPL", 0, 100, [&](bool ok, std::vector<Journal::Entry> missed) {
    called = true;
    EXPECT_FALSE(ok);
    EXPECT_TRUE(missed.empty());
  });
  EXPECT_TRUE(called);
}

}  // namespace
