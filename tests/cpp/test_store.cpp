// SignalStore on real SQLite files in a temporary directory: seq across reopen, commit before
// publish, recovery at the seam, retention, and the degraded modes (corrupt, locked,
// read-only) that must never stop live publishing.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("gs_store_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline std::atomic<int> counter_{0};
  fs::path path_;
};

struct Published {
  std::string symbol;
  std::uint64_t seq;
  MessageKind kind;
  std::string frame;
};

// Records what the store publishes and the alerts it raises.
struct Recorder {
  std::mutex mu;
  std::vector<Published> published;
  std::vector<std::pair<bool, std::string>> alerts;

  // Runs the steps handed over, in order, as the server's router does.
  SignalStore::Publish publish() {
    return [this](std::vector<SignalStore::Step> steps, bool) {
      for (auto& step : steps) {
        if (auto* p = std::get_if<SignalStore::Publication>(&step)) {
          const auto seq = nlohmann::json::parse(*p->frame)["seq"].get<std::uint64_t>();
          std::lock_guard lk(mu);
          published.push_back({p->symbol, seq, p->kind, *p->frame});
        } else {
          std::get<std::function<void()>>(step)();
        }
      }
    };
  }
  SignalStore::Notify notify() {
    return [this](bool degraded, const std::string& reason) {
      std::lock_guard lk(mu);
      alerts.emplace_back(degraded, reason);
    };
  }
  std::vector<std::uint64_t> seqs(const std::string& symbol) {
    std::lock_guard lk(mu);
    std::vector<std::uint64_t> out;
    for (const auto& p : published) {
      if (p.symbol == symbol) out.push_back(p.seq);
    }
    return out;
  }
};

StoreOptions opts(const std::string& path) {
  StoreOptions o;
  o.path = path;
  o.retry_interval = 50ms;
  o.busy_timeout = 50ms;
  return o;
}

std::string signal_body(int i) {
  return nlohmann::json{{"type", "signal_update"},
                        {"data", {{"symbol", "AAPL"}, {"signal_id", std::to_string(i)}}}}
      .dump();
}

void append_signals(SignalStore& st, int from, int to) {
  for (int i = from; i < to; ++i) {
    ASSERT_TRUE(st.append("AAPL", {{MessageKind::SignalUpdate, signal_body(i)}}));
  }
}

// Rows in the file, read with a plain connection of our own.
std::int64_t count_rows(const std::string& path, const std::string& where = "1",
                        const std::string& table = "messages") {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  const std::string q = "SELECT count(*) FROM " + table + " WHERE " + where;
  EXPECT_EQ(sqlite3_prepare_v2(db, q.c_str(), -1, &s, nullptr), SQLITE_OK);
  std::int64_t n = -1;
  if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

TEST(SignalStore, MessagesArrivingWithinTheCommitIntervalShareOneCommit) {
  TempDir dir;
  Recorder rec;
  auto o = opts(dir.file("a.db"));
  o.commit_interval = 500ms;
  SignalStore st(o, rec.publish(), rec.notify());
  append_signals(st, 0, 1);
  st.flush();
  ASSERT_EQ(st.stats().commits, 1u);
  // The first one went at once; these 40 come within the interval and wait for one commit.
  append_signals(st, 1, 41);
  st.flush();
  EXPECT_EQ(st.stats().commits, 2u);
  EXPECT_EQ(st.stats().written, 41u);
  std::vector<std::uint64_t> want(41);
  for (std::uint64_t i = 0; i < 41; ++i) want[i] = i + 1;
  EXPECT_EQ(rec.seqs("AAPL"), want);
  // Past the interval, the next message gets a commit of its own.
  std::this_thread::sleep_for(600ms);
  append_signals(st, 41, 42);
  st.flush();
  EXPECT_EQ(st.stats().commits, 3u);
  EXPECT_EQ(rec.seqs("AAPL").size(), 42u);
}

TEST(SignalStore, AFullQueueStartsTheCommitAtOnce) {
  TempDir dir;
  Recorder rec;
  auto o = opts(dir.file("a.db"));
  o.queue_size = 4;  // smaller than max_batch: a full queue is a full batch
  o.commit_interval = 5s;
  SignalStore st(o, rec.publish(), rec.notify());
  append_signals(st, 0, 1);
  st.flush();
  // 12 more through a queue of 4: each time it fills, the commit goes without waiting out
  // the 5 s interval (the producer waits for room meanwhile).
  const auto t0 = std::chrono::steady_clock::now();
  append_signals(st, 1, 13);
  st.flush();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);  // not one interval, let alone 3
  EXPECT_EQ(rec.seqs("AAPL").size(), 13u);
  EXPECT_EQ(st.stats().written, 13u);
}

TEST(SignalStore, StampsSeqStoresThenPublishesInOrder) {
  TempDir dir;
  Recorder rec;
  {
    SignalStore st(opts(dir.file("a.db")), rec.publish(), rec.notify());
    append_signals(st, 0, 50);
    ASSERT_TRUE(
        st.append("NVDA", {{MessageKind::AgentUpdate, R"({"type":"agent_update"})"},
                           {MessageKind::DecisionUpdate, R"({"type":"decision_update"})"}}));
    st.flush();
    EXPECT_FALSE(st.degraded());
    EXPECT_EQ(st.last_seq("AAPL"), 50u);
    EXPECT_EQ(st.last_seq("NVDA"), 2u);
    EXPECT_EQ(st.stats().written, 52u);
  }
  std::vector<std::uint64_t> want(50);
  for (std::uint64_t i = 0; i < 50; ++i) want[i] = i + 1;
  EXPECT_EQ(rec.seqs("AAPL"), want);
  EXPECT_EQ(rec.seqs("NVDA"), (std::vector<std::uint64_t>{1, 2}));
  // The frame is the body with seq first, exactly what is stored.
  EXPECT_EQ(rec.published.front().frame, R"({"seq":1,)" + signal_body(0).substr(1));
  EXPECT_EQ(count_rows(dir.file("a.db")), 52);
  EXPECT_TRUE(rec.alerts.empty());
}

TEST(SignalStore, SeqContinuesAfterReopenAndNeverRepeats) {
  TempDir dir;
  Recorder rec;
  std::uint64_t first_last = 0;
  {
    SignalStore st(opts(dir.file("a.db")), rec.publish(), rec.notify());
    append_signals(st, 0, 10);
    st.flush();
    first_last = st.last_seq("AAPL");
  }
  {
    SignalStore st(opts(dir.file("a.db")), rec.publish(), rec.notify());
    EXPECT_GE(st.last_seq("AAPL"), first_last);
    append_signals(st, 10, 20);
    st.flush();
  }
  const auto seqs = rec.seqs("AAPL");
  ASSERT_EQ(seqs.size(), 20u);
  for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i], seqs[i - 1]) << i;
  EXPECT_EQ(count_rows(dir.file("a.db")), 20);
}

TEST(SignalStore, KeepsEachSubjectsStateAcrossAReopen) {
  TempDir dir;
  Recorder rec;
  using Kept = std::vector<std::pair<std::string, std::string>>;
  {
    SignalStore st(opts(dir.file("k.db")), rec.publish(), rec.notify());
    EXPECT_EQ(st.kept("alice", "alert"), Kept{});  // before any write: empty, no error
    st.keep("alice", "alert", "b", R"({"id":"b"})");
    st.keep("alice", "alert", "a", R"({"id":"a"})");
    st.keep("alice", "portfolio", "a", R"({"p":1})");
    st.keep("bob", "alert", "a", R"({"id":"bob's"})");
    append_signals(st, 0, 3);                          // in the same commits as room messages
    st.keep("alice", "alert", "b", R"({"id":"b2"})");  // replaced
    st.keep("bob", "alert", "a", std::nullopt);        // deleted
    st.flush();
    EXPECT_EQ(st.kept("alice", "alert"), (Kept{{"a", R"({"id":"a"})"}, {"b", R"({"id":"b2"})"}}));
    EXPECT_EQ(st.kept("bob", "alert"), Kept{});
  }
  SignalStore st(opts(dir.file("k.db")), rec.publish(), rec.notify());
  EXPECT_EQ(st.kept("alice", "alert").size(), 2u);
  EXPECT_EQ(st.kept("alice", "portfolio"), (Kept{{"a", R"({"p":1})"}}));
  EXPECT_EQ(rec.seqs("AAPL").size(), 3u);
}

// A client that reconnects at once must find what it just kept, written or not: kept() lays
// the keeps still queued over the file (CI once saw a reconnect beat the commit).
TEST(SignalStore, WhatWasJustKeptIsFoundBeforeItIsWritten) {
  TempDir dir;
  Recorder rec;
  using Kept = std::vector<std::pair<std::string, std::string>>;
  SignalStore st(opts(dir.file("k.db")), rec.publish(), rec.notify());
  st.keep("alice", "portfolio", "old", R"({"v":0})");
  st.keep("alice", "portfolio", "gone", R"({"v":0})");
  st.flush();
  // The writer's thread is held inside a step, so nothing queued after it is written.
  std::promise<void> entered, release;
  auto go = release.get_future().share();
  st.mark([&entered, go] {
    entered.set_value();
    go.wait();
  });
  entered.get_future().wait();
  st.keep("alice", "portfolio", "new", R"({"v":1})");
  st.keep("alice", "portfolio", "old", R"({"v":2})");   // replaced
  st.keep("alice", "portfolio", "gone", std::nullopt);  // deleted
  st.keep("alice", "alert", "new", R"({"a":1})");       // another kind
  st.keep("bob", "portfolio", "new", R"({"b":1})");     // another subject
  const Kept want{{"new", R"({"v":1})"}, {"old", R"({"v":2})"}};
  EXPECT_EQ(st.kept("alice", "portfolio"), want);
  EXPECT_EQ(st.kept("alice", "alert"), (Kept{{"new", R"({"a":1})"}}));
  EXPECT_EQ(st.kept("bob", "portfolio"), (Kept{{"new", R"({"b":1})"}}));
  EXPECT_EQ(st.kept("carol", "portfolio"), Kept{});
  release.set_value();
  st.flush();
  EXPECT_EQ(st.kept("alice", "portfolio"), want);  // now from the file alone
  EXPECT_EQ(count_rows(dir.file("k.db"), "1", "kept"), 4);
}

TEST(SignalStore, PricesAreStoredOnlyWhenAsked) {
  TempDir dir;
  Recorder rec;
  for (bool prices : {false, true}) {
    auto o = opts(dir.file(prices ? "p.db" : "n.db"));
    o.store_prices = prices;
    SignalStore st(o, rec.publish(), rec.notify());
    ASSERT_TRUE(st.append("AAPL", {{MessageKind::PriceUpdate, R"({"type":"price_update"})"}}));
    ASSERT_TRUE(st.append("AAPL", {{MessageKind::AgentUpdate, R"({"type":"agent_update"})"}}));
    st.flush();
    EXPECT_EQ(count_rows(o.path, "type = 'price_update'"), prices ? 1 : 0);
    EXPECT_EQ(count_rows(o.path, "type = 'agent_update'"), 1);
  }
}

TEST(SignalStore, RecoverGivesExactlyTheMissedMessagesAtTheSeam) {
  TempDir dir;
  Recorder rec;
  SignalStore st(opts(dir.file("a.db")), rec.publish(), rec.notify());
  append_signals(st, 0, 20);
  // Recovery queued between appends: it sees 1..20 and nothing later.
  std::vector<std::uint64_t> got;
  bool recovered = false;
  st.recover("AAPL", 12, 100, [&](bool ok, std::vector<Journal::Entry> missed) {
    recovered = ok;
    for (const auto& m : missed) {
      got.push_back(nlohmann::json::parse(m.json)["seq"].get<std::uint64_t>());
      EXPECT_EQ(m.kind, MessageKind::SignalUpdate);
    }
  });
  append_signals(st, 20, 30);
  st.flush();
  EXPECT_TRUE(recovered);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{13, 14, 15, 16, 17, 18, 19, 20}));

  // More than max_count: no partial recovery.
  bool too_many = true;
  std::size_t n = 99;
  st.recover("AAPL", 0, 5, [&](bool ok, std::vector<Journal::Entry> missed) {
    too_many = ok;
    n = missed.size();
  });
  // A seq the server never issued: not recovered.
  bool future = true;
  st.recover("AAPL", 1000, 100, [&](bool ok, std::vector<Journal::Entry>) { future = ok; });
  // Up to date: recovered, nothing to send.
  std::size_t none = 99;
  st.recover("AAPL", 30, 100, [&](bool ok, std::vector<Journal::Entry> missed) {
    EXPECT_TRUE(ok);
    none = missed.size();
  });
  st.flush();
  EXPECT_FALSE(too_many);
  EXPECT_EQ(n, 0u);
  EXPECT_FALSE(future);
  EXPECT_EQ(none, 0u);
}

TEST(SignalStore, RetentionByRowsKeepsTheNewestAndRecoveryKnowsTheFloor) {
  TempDir dir;
  Recorder rec;
  auto o = opts(dir.file("a.db"));
  o.retention_rows = 10;
  o.retention_interval = 20ms;
  SignalStore st(o, rec.publish(), rec.notify());
  append_signals(st, 0, 40);
  st.flush();
  for (int i = 0; i < 200 && count_rows(o.path) > 10; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(count_rows(o.path), 10);
  EXPECT_EQ(count_rows(o.path, "seq > 30"), 10);
  const auto newest = st.signals("AAPL", 3);
  ASSERT_EQ(newest.size(), 3u);
  EXPECT_EQ(newest[0].seq, 40u);
  EXPECT_EQ(newest[2].seq, 38u);
  EXPECT_EQ(st.signals("AAPL", 100, 35).front().seq, 34u);  // before
  bool old = true, recent = false;
  st.recover("AAPL", 5, 100, [&](bool ok, std::vector<Journal::Entry>) { old = ok; });
  st.recover("AAPL", 35, 100, [&](bool ok, std::vector<Journal::Entry>) { recent = ok; });
  st.flush();
  EXPECT_FALSE(old);  // rows 6..30 are gone
  EXPECT_TRUE(recent);
}

TEST(SignalStore, RetentionBacklogGoesInChunksUntilDone) {
  TempDir dir;
  Recorder rec;
  auto o = opts(dir.file("a.db"));
  {
    SignalStore st(o, rec.publish(), rec.notify());
    append_signals(st, 0, 12'000);
    st.flush();
  }
  o.retention_rows = 100;
  o.retention_interval = std::chrono::hours(1);  // only the backlog's own follow-ups run
  SignalStore st(o, rec.publish(), rec.notify());
  for (int i = 0; i < 500 && count_rows(o.path) > 100; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(count_rows(o.path), 100);
  EXPECT_EQ(count_rows(o.path, "seq > 11900"), 100);
  EXPECT_EQ(st.stats().retained_deleted, 11'900u);
}

TEST(SignalStore, RetentionByAge) {
  TempDir dir;
  Recorder rec;
  auto o = opts(dir.file("a.db"));
  o.retention_days = 1;
  o.retention_interval = 20ms;
  {
    SignalStore st(o, rec.publish(), rec.notify());
    append_signals(st, 0, 5);
    st.flush();
  }
  // Age the first three rows by two days, as if written then.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  const auto old = std::to_string(now_ms() - 2 * 86'400'000LL);
  ASSERT_EQ(sqlite3_exec(db, ("UPDATE messages SET ts_ms = " + old + " WHERE seq <= 3").c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  SignalStore st(o, rec.publish(), rec.notify());
  for (int i = 0; i < 200 && count_rows(o.path) > 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(count_rows(o.path), 2);
  EXPECT_EQ(count_rows(o.path, "seq <= 3"), 0);
}

TEST(SignalStore, CorruptFileIsDegradedButMessagesFlow) {
  TempDir dir;
  Recorder rec;
  const auto path = dir.file("bad.db");
  {
    std::ofstream f(path, std::ios::binary);
    f << std::string(8192, 'x');  // not an SQLite file
  }
  SignalStore st(opts(path), rec.publish(), rec.notify());
  EXPECT_TRUE(st.degraded());
  append_signals(st, 0, 5);
  st.flush();
  EXPECT_EQ(rec.seqs("AAPL").size(), 5u);  // live data kept flowing
  EXPECT_EQ(st.stats().unstored, 5u);
  ASSERT_FALSE(rec.alerts.empty());
  EXPECT_TRUE(rec.alerts.front().first);
  EXPECT_NE(rec.alerts.front().second.find("corrupt"), std::string::npos)
      << rec.alerts.front().second;
  bool ok = true;
  st.recover("AAPL", 1, 100, [&](bool r, std::vector<Journal::Entry>) { ok = r; });
  st.flush();
  EXPECT_FALSE(ok);
  // The file is left as it was: nothing of the operator's is destroyed.
  EXPECT_EQ(fs::file_size(path), 8192u);
}

TEST(SignalStore, LockedFileIsDegradedThenRecovers) {
  TempDir dir;
  Recorder rec;
  const auto path = dir.file("a.db");
  {
    SignalStore st(opts(path), rec.publish(), rec.notify());
    append_signals(st, 0, 3);
    st.flush();
  }
  // Another connection holds the write lock.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  SignalStore st(opts(path), rec.publish(), rec.notify());
  append_signals(st, 3, 6);
  st.flush();
  EXPECT_TRUE(st.degraded());
  EXPECT_GE(rec.seqs("AAPL").size(), 6u);
  {
    std::lock_guard lk(rec.mu);
    ASSERT_FALSE(rec.alerts.empty());
    EXPECT_NE(rec.alerts.back().second.find("locked"), std::string::npos)
        << rec.alerts.back().second;
  }
  // seq still went on from the file's (read before the lock mattered).
  const auto seqs = rec.seqs("AAPL");
  EXPECT_GT(seqs.back(), 3u);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  for (int i = 0; i < 300 && st.degraded(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(st.degraded());
  {
    std::lock_guard lk(rec.mu);
    EXPECT_FALSE(rec.alerts.back().first);  // history_recovered
  }
  append_signals(st, 6, 8);
  st.flush();
  // The unstored stretch is a floor: a since below it is not recovered.
  bool below = true, above = false;
  const auto last_unstored = seqs.back();
  st.recover("AAPL", 2, 100, [&](bool ok, std::vector<Journal::Entry>) { below = ok; });
  st.recover("AAPL", last_unstored, 100,
             [&](bool ok, std::vector<Journal::Entry> m) { above = ok && m.size() == 2; });
  st.flush();
  EXPECT_FALSE(below);
  EXPECT_TRUE(above);
}

TEST(SignalStore, ReadOnlyFileIsDegraded) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes read-only files (the Python test uses chattr)";
  TempDir dir;
  Recorder rec;
  const auto path = dir.file("a.db");
  {
    SignalStore st(opts(path), rec.publish(), rec.notify());
    append_signals(st, 0, 3);
    st.flush();
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  SignalStore st(opts(path), rec.publish(), rec.notify());
  EXPECT_TRUE(st.degraded());
  append_signals(st, 3, 5);
  st.flush();
  EXPECT_EQ(rec.seqs("AAPL").back(), 5u);  // seq read from the read-only file
}

TEST(SignalStore, AStretchOfUnstoredPricesIsReservedToo) {
  // Prices not stored still take seqs: a restart (even after kill -9) must not issue them again.
  TempDir dir;
  Recorder rec;
  const auto path = dir.file("a.db");
  {
    SignalStore st(opts(path), rec.publish(), rec.notify());
    for (int i = 0; i < 2500; ++i) {
      ASSERT_TRUE(st.append("AAPL", {{MessageKind::PriceUpdate, R"({"type":"price_update"})"}}));
      if (i == 0) st.flush();  // the rest may take the express route, reserving as they go
    }
    st.flush();
    EXPECT_EQ(count_rows(path), 0);
    EXPECT_GE(st.stats().express, 500u);  // at least up to the first reservation's half
  }
  SignalStore st(opts(path), rec.publish(), rec.notify());
  append_signals(st, 0, 1);
  st.flush();
  const auto seqs = rec.seqs("AAPL");
  ASSERT_EQ(seqs.size(), 2501u);
  EXPECT_EQ(seqs[2499], 2500u);
  EXPECT_GT(seqs.back(), 2500u);
  EXPECT_TRUE(fs::exists(path + "-accounted"));
}

TEST(SignalStore, UnstoredPricesNeverWaitForTheWriter) {
  // The express route: once a symbol has nothing queued, its unstored prices are numbered
  // and handed over on the caller's thread, even while the writer is stuck in another
  // symbol's hand-over; a price after a queued message of its own symbol waits for it.
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool writer_held = false, release = false;
  struct Seen {
    std::string symbol;
    std::uint64_t seq;
    MessageKind kind;
    bool may_wait;
    std::thread::id thread;
  };
  std::vector<Seen> seen;
  SignalStore st(
      opts(dir.file("a.db")),
      [&](std::vector<SignalStore::Step> steps, bool may_wait) {
        std::unique_lock lk(mu);
        for (auto& step : steps) {
          const auto& p = std::get<SignalStore::Publication>(step);
          if (p.symbol == "MSFT") {  // hold the writer here until released
            writer_held = true;
            cv.notify_all();
            cv.wait(lk, [&] { return release; });
          }
          seen.push_back({p.symbol, nlohmann::json::parse(*p.frame)["seq"].get<std::uint64_t>(),
                          p.kind, may_wait, std::this_thread::get_id()});
        }
      },
      nullptr);
  append_signals(st, 0, 1);
  st.flush();
  ASSERT_TRUE(st.append("MSFT", {{MessageKind::SignalUpdate, signal_body(9)}}));
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, 10s, [&] { return writer_held; }));
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(st.append("AAPL", {{MessageKind::PriceUpdate, R"({"type":"price_update"})"}}));
  }
  {
    std::lock_guard lk(mu);
    ASSERT_EQ(seen.size(), 11u);  // the signal, then the ten prices, already handed over
    for (std::size_t i = 1; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i].seq, i + 1);
      EXPECT_EQ(seen[i].kind, MessageKind::PriceUpdate);
      EXPECT_FALSE(seen[i].may_wait);
      EXPECT_EQ(seen[i].thread, std::this_thread::get_id());
    }
  }
  EXPECT_EQ(st.stats().express, 10u);
  EXPECT_EQ(st.last_seq("AAPL"), 11u);
  // Behind the stuck writer now: a signal of AAPL, and a price that must follow it.
  append_signals(st, 1, 2);
  ASSERT_TRUE(st.append("AAPL", {{MessageKind::PriceUpdate, R"({"type":"price_update"})"}}));
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(seen.size(), 11u);
    release = true;
  }
  cv.notify_all();
  st.flush();
  EXPECT_EQ(st.stats().express,
            10u);  // (not under mu: express() hands over under the store's lock)
  std::lock_guard lk(mu);
  ASSERT_EQ(seen.size(), 14u);
  EXPECT_EQ(seen[11].symbol, "MSFT");
  EXPECT_EQ(seen[12].seq, 12u);
  EXPECT_EQ(seen[12].kind, MessageKind::SignalUpdate);
  EXPECT_EQ(seen[13].seq, 13u);
  EXPECT_EQ(seen[13].kind, MessageKind::PriceUpdate);
  EXPECT_TRUE(seen[13].may_wait);  // it went through the writer
}

TEST(SignalStore, RecoveryCountsExpressPricesAsHandedOver) {
  TempDir dir;
  Recorder rec;
  SignalStore st(opts(dir.file("a.db")), rec.publish(), rec.notify());
  append_signals(st, 0, 1);
  st.flush();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(st.append("AAPL", {{MessageKind::PriceUpdate, R"({"type":"price_update"})"}}));
  }
  ASSERT_EQ(st.stats().express, 4u);
  // A client that saw seq 5 (the last express price) misses nothing; one that saw none
  // gets the stored signal (prices are not stored).
  int from5 = -1, from0 = -1;
  st.recover("AAPL", 5, 100, [&](bool ok, std::vector<Journal::Entry> m) {
    from5 = ok ? static_cast<int>(m.size()) : -2;
  });
  st.recover("AAPL", 0, 100, [&](bool ok, std::vector<Journal::Entry> m) {
    from0 = ok ? static_cast<int>(m.size()) : -2;
  });
  st.flush();
  EXPECT_EQ(from5, 0);
  EXPECT_EQ(from0, 1);
  // And after the recoveries, prices take the express route again, numbered on.
  ASSERT_TRUE(st.append("AAPL", {{MessageKind::PriceUpdate, R"({"type":"price_update"})"}}));
  EXPECT_EQ(st.stats().express, 5u);
  EXPECT_EQ(rec.seqs("AAPL"), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(SignalStore, AfterARunThatPublishedUnstoredSeqJumpsAndOlderSinceIsNotRecovered) {
  TempDir dir;
  Recorder rec;
  const auto path = dir.file("a.db");
  const auto marker = path + "-accounted";
  std::uint64_t unstored_last = 0;
  {
    SignalStore st(opts(path), rec.publish(), rec.notify());
    append_signals(st, 0, 3);
    st.flush();
    EXPECT_TRUE(fs::exists(marker));
    sqlite3* other = nullptr;  // another process holds the write lock: degraded
    ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    append_signals(st, 3, 6);
    st.flush();
    EXPECT_TRUE(st.degraded());
    EXPECT_FALSE(fs::exists(marker));  // removed before the first unstored message went out
    unstored_last = st.last_seq("AAPL");
    EXPECT_EQ(unstored_last, 6u);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    // Stopped (or killed) while degraded: the file never learnt of seqs 4 to 6.
  }
  const auto before_us = static_cast<std::uint64_t>(now_ms()) * 1000;
  {
    SignalStore st(opts(path), rec.publish(), rec.notify());
    EXPECT_FALSE(st.degraded());
    EXPECT_TRUE(fs::exists(marker));
    append_signals(st, 6, 8);
    st.flush();
    const auto seqs = rec.seqs("AAPL");
    ASSERT_EQ(seqs.size(), 8u);
    EXPECT_GE(seqs[6], before_us);  // above anything the last run could have sent
    EXPECT_EQ(seqs[7], seqs[6] + 1);
    bool old_since = true, new_since = false;
    st.recover("AAPL", 3, 100, [&](bool ok, std::vector<Journal::Entry>) { old_since = ok; });
    st.recover("AAPL", seqs[6], 100,
               [&](bool ok, std::vector<Journal::Entry> m) { new_since = ok && m.size() == 1; });
    st.flush();
    EXPECT_FALSE(old_since);  // 4 to 6 were never stored: no partial recovery
    EXPECT_TRUE(new_since);
  }
  // The floor is in the file: a third, ordinary start keeps refusing the old since.
  EXPECT_TRUE(fs::exists(marker));
  std::this_thread::sleep_for(20ms);  // a second jump would go 20,000 past the reservation
  SignalStore st(opts(path), rec.publish(), rec.notify());
  bool old_since = true;
  st.recover("AAPL", unstored_last, 100,
             [&](bool ok, std::vector<Journal::Entry>) { old_since = ok; });
  st.flush();
  EXPECT_FALSE(old_since);
  EXPECT_LE(st.last_seq("AAPL"), rec.seqs("AAPL").back() + 1000);  // the reservation: no jump
}

TEST(SignalStore, AFileALastRunCreatedButCouldNotSetUpStillJumps) {
  // A first run on a full disk creates the file, cannot set it up, and sends seqs unstored;
  // after a kill and with space back, the next run must not number from 1 again.
  TempDir dir;
  Recorder rec;
  const auto fresh = dir.file("fresh.db"), left = dir.file("left.db");
  {
    std::ofstream(left).flush();
  }  // what SQLite's open leaves behind
  const auto before_us = static_cast<std::uint64_t>(now_ms()) * 1000;
  {
    SignalStore st(opts(fresh), rec.publish(), rec.notify());
    append_signals(st, 0, 1);
    st.flush();
    EXPECT_EQ(st.last_seq("AAPL"), 1u);  // a new file starts at 1
  }
  SignalStore st(opts(left), rec.publish(), rec.notify());
  ASSERT_TRUE(st.append("MSFT", {{MessageKind::SignalUpdate, signal_body(1)}}));
  st.flush();
  EXPECT_GE(st.last_seq("MSFT"), before_us);
}

TEST(SignalStore, FullQueueShedsPricesNotOrderedMessages) {
  TempDir dir;
  Recorder rec;
  auto o = opts(dir.file("a.db"));
  o.queue_size = 4;
  std::atomic<bool> release{false};
  std::atomic<int> published{0};
  // A publisher that blocks the store's thread until released: the queue fills up.
  SignalStore st(
      o,
      [&](std::vector<SignalStore::Step> steps, bool) {
        while (!release.load()) std::this_thread::sleep_for(1ms);
        published.fetch_add(static_cast<int>(steps.size()));
      },
      rec.notify());
  int shed = 0;
  for (int i = 0; i < 20; ++i) {
    if (!st.append("AAPL", {{MessageKind::PriceUpdate, R"({"type":"price_update"})"}})) ++shed;
  }
  EXPECT_GT(shed, 0);
  EXPECT_EQ(st.stats().shed, static_cast<std::uint64_t>(shed));
  std::thread t([&] { append_signals(st, 0, 3); });  // waits for room, never dropped
  std::this_thread::sleep_for(20ms);
  release.store(true);
  t.join();
  st.flush();
  EXPECT_EQ(published.load(), 20 - shed + 3);
}

// A cluster node relays messages numbered by their owner: stored and published with the
// seqs they came with, in order, a mark between them where it was placed; a gap (the node
// joined late) is the floor below which a `since` is not recovered from this file.
TEST(SignalStore, RelayedMessagesKeepTheirSeqAndAGapIsTheFloor) {
  TempDir dir;
  Recorder rec;
  SignalStore st(opts(dir.file("a.db")), rec.publish(), rec.notify());
  auto relay = [&](std::uint64_t seq) {
    return st.relay("AAPL", seq, MessageKind::SignalUpdate,
                    std::make_shared<const std::string>(with_seq(seq, signal_body(int(seq)))));
  };
  for (std::uint64_t seq = 501; seq <= 510; ++seq) ASSERT_TRUE(relay(seq));
  std::vector<std::uint64_t> at_mark;
  st.mark([&] { at_mark = rec.seqs("AAPL"); });
  for (std::uint64_t seq = 511; seq <= 515; ++seq) ASSERT_TRUE(relay(seq));
  st.flush();
  std::vector<std::uint64_t> want(15);
  std::iota(want.begin(), want.end(), 501);
  EXPECT_EQ(rec.seqs("AAPL"), want);
  EXPECT_EQ(at_mark, std::vector<std::uint64_t>(want.begin(), want.begin() + 10));
  EXPECT_EQ(st.last_seq("AAPL"), 515U);
  EXPECT_EQ(count_rows(dir.file("a.db"), "symbol = 'AAPL' AND seq BETWEEN 501 AND 515"), 15);

  bool below = true;
  st.recover("AAPL", 499, 100, [&](bool ok, std::vector<Journal::Entry>) { below = ok; });
  std::vector<std::uint64_t> got;
  bool above = false;
  st.recover("AAPL", 507, 100, [&](bool ok, std::vector<Journal::Entry> missed) {
    above = ok;
    for (const auto& m : missed) {
      got.push_back(nlohmann::json::parse(m.json)["seq"].get<std::uint64_t>());
    }
  });
  st.flush();
  EXPECT_FALSE(below);  // 500 and before were never here
  EXPECT_TRUE(above);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{508, 509, 510, 511, 512, 513, 514, 515}));
}

TEST(SignalStore, RelayNeverWaitsAFullQueueSaysSo) {
  TempDir dir;
  Recorder rec;
  auto o = opts(dir.file("a.db"));
  o.queue_size = 16;
  o.commit_interval = 10s;  // the writer holds the first batch back
  SignalStore st(o, rec.publish(), rec.notify());
  std::uint64_t seq = 1;
  const auto t0 = std::chrono::steady_clock::now();
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    if (st.relay("AAPL", seq, MessageKind::SignalUpdate,
                 std::make_shared<const std::string>(with_seq(seq, signal_body(i))))) {
      ++seq;
    } else {
      ++refused;
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);  // never waited for the writer
  EXPECT_GT(refused, 0);
  st.flush();
  std::vector<std::uint64_t> want(seq - 1);
  std::iota(want.begin(), want.end(), 1);
  EXPECT_EQ(rec.seqs("AAPL"), want);  // what was taken went out, in order, none twice
}

TEST(HistoryReader, ReadsNewestFirstByTypeAndWindowsFromEitherEnd) {
  TempDir dir;
  Recorder rec;
  const auto path = dir.file("a.db");
  {
    SignalStore st(opts(path), rec.publish(), rec.notify());
    append_signals(st, 0, 5);  // seqs 1-5
    ASSERT_TRUE(st.append("AAPL", {{MessageKind::AgentUpdate, R"({"type":"agent_update"})"},
                                   {MessageKind::SignalOutcome, R"({"type":"signal_outcome"})"}}));
    st.flush();
  }
  const HistoryReader r(path, 250ms, false);
  auto seqs = [](const std::vector<StoredMessage>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& m : v) out.push_back(m.seq);
    return out;
  };
  EXPECT_EQ(seqs(r.latest("AAPL", "signal_update", 3)), (std::vector<std::uint64_t>{5, 4, 3}));
  EXPECT_EQ(seqs(r.latest("AAPL", "signal_update", 10, 3)), (std::vector<std::uint64_t>{2, 1}));
  const auto outcome = r.latest("AAPL", "signal_outcome", 10);
  ASSERT_EQ(outcome.size(), 1u);
  EXPECT_EQ(outcome[0].seq, 7u);
  EXPECT_EQ(outcome[0].json, R"({"seq":7,"type":"signal_outcome"})");
  EXPECT_EQ(seqs(r.window("AAPL", 0, INT64_MAX, 2)), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(seqs(r.window("AAPL", 0, INT64_MAX, 2, true)), (std::vector<std::uint64_t>{6, 7}));
  EXPECT_TRUE(r.window("AAPL", 0, 1, 10).empty());  // nothing stored in 1970
  EXPECT_TRUE(r.latest("MSFT", "signal_update", 10).empty());
}

TEST(HistoryReader, AFileNotWrittenYetReadsEmptyOrIsNamed) {
  TempDir dir;
  const auto missing = dir.file("missing.db");
  EXPECT_TRUE(HistoryReader(missing, 250ms, true).latest("AAPL", "signal_update", 5).empty());
  try {
    (void)HistoryReader(missing, 250ms, false).latest("AAPL", "signal_update", 5);
    ADD_FAILURE() << "a missing file of the server's own is an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  const auto bare = dir.file("bare.db");  // created, no tables yet
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(bare.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(HistoryReader(bare, 250ms, false).window("AAPL", 0, INT64_MAX, 5).empty());
}

TEST(SignalStore, RejectsBadOptions) {
  Recorder rec;
  StoreOptions o;
  EXPECT_THROW(SignalStore(o, rec.publish(), rec.notify()), InvalidArgument);
  o.path = "/tmp/x.db";
  o.retention_days = -1;
  EXPECT_THROW(SignalStore(o, rec.publish(), rec.notify()), InvalidArgument);
}

TEST(Clock, ParsesIso8601) {
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ms("2024-01-02T03:04:05.678Z"), 1704164645678);
  EXPECT_EQ(parse_iso8601_ms("2024-01-02"), 1704153600000);
  EXPECT_EQ(parse_iso8601_ms("2024-01-02 03:04:05+00:00"), 1704164645000);
  EXPECT_FALSE(parse_iso8601_ms("2024-13-02T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2024-01-02T00:00:00+02:00"));
  EXPECT_FALSE(parse_iso8601_ms("yesterday"));
}

}  // namespace
}  // namespace gs
