// The in-process runtime: market state per symbol, the monitor, a feed, the orchestrator.
// The composition root of everything below the network; the server wraps one of these.
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
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "goldensignals/evaluation/scorer.hpp"
#include "goldensignals/market/feed.hpp"
#include "goldensignals/market/market_state.hpp"
#include "goldensignals/orchestrator/orchestrator.hpp"

namespace gs {

struct RuntimeOptions {
  std::vector<std::string> symbols;  // normalized and de-duplicated on construction
  ConsensusPolicy policy;            // AGENT_MIN_CONFIDENCE, AGENT_CONSENSUS_THRESHOLD
  OrchestratorOptions orchestrator;
  double signal_generation_interval_s = 30.0;  // SIGNAL_GENERATION_INTERVAL (market time)
  double move_threshold = 0.01;                // re-analyse on a move this large since the last
  std::size_t history_bars = 512;              // bars kept per symbol and shown to agents
  double bar_seconds = 60.0;                   // ticks from publish_tick build bars this long
  bool analyze_on_start = true;                // one analysis per symbol as soon as data exists
  ScoringOptions scoring;                      // every forecast scored when its horizon closes
  // Synchronous replay (backtests): no threads of its own. start() only binds the feed;
  // run_feed() then runs it on the caller's thread, each analysis to its end before the next
  // bar (orchestrator.driven).
  bool synchronous = false;
  void validate() const;
};

// A price change, as the protocol's price_update carries it.
struct PriceUpdate {
  std::string symbol;
  double price = 0.0;
  double volume = 0.0;
  double change = 0.0;
  double change_percent = 0.0;
  std::int64_t ts_ms = 0;
};

// Runtime events for listeners that also want prices and logs (Python, the server).
class RuntimeSink : public EventSink {
 public:
  virtual void on_price_update(const PriceUpdate& p) = 0;
  // level: 10 debug, 20 info, 30 warning, 40 error (Python's logging levels).
  virtual void on_log(int level, const std::string& logger, const std::string& message) = 0;
  // The least level worth sending (so debug lines cost nothing when nobody listens).
  [[nodiscard]] virtual int log_level() const { return 20; }
  // A consensus signal whose horizon closed (live scoring), on the thread of the closing bar.
  virtual void on_signal_outcome(const ScoredForecast& f) { (void)f; }
};

class FanoutSink;

enum class RuntimeState : std::uint8_t { Created, Starting, Running, Stopping, Stopped, Faulted };
std::string_view to_string(RuntimeState s) noexcept;

class Runtime {
 public:
  Runtime(RuntimeOptions opts, std::shared_ptr<RuntimeSink> sink);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Before start(): the market data source (none: only publish_tick/publish_bar).
  void set_feed(std::unique_ptr<Feed> feed);

  // Starts the feed and the monitor. Returns once the feed's history back-fill is in (its
  // initial analyses are then under way), so snapshots and indicators are ready; at once
  // for a feed without one.
  void start();
  void stop();
  [[nodiscard]] RuntimeState state() const noexcept { return state_.load(); }

  // Market data from the user. Throws UnknownSymbol / BadMarketData; state unchanged then.
  void publish_tick(const std::string& symbol, double price, double volume, std::int64_t ts_ms);
  void publish_bar(const std::string& symbol, const Bar& bar);

  // Synchronous runtimes, after start(): runs the feed to its end on this thread, calling
  // progress(bars ingested) now and then; progress returning false, or stop() from another
  // thread, ends the run early. True when the feed delivered everything.
  bool run_feed(const std::function<bool(std::uint64_t)>& progress);

  // Blocks until the feed has delivered all it has (a replay's end), or `timeout` passes, or
  // the runtime stops; true when the feed is done. A feed that never ends: false at timeout.
  bool wait_feed(std::chrono::milliseconds timeout);
  // Bars recorded so far (feed and publish_bar, and bars that ticks completed).
  [[nodiscard]] std::uint64_t bars_ingested() const noexcept { return bars_ingested_.load(); }
  // The scorer (nullptr when scoring.horizon_bars is 0).
  [[nodiscard]] Scorer* scorer() const noexcept { return scorer_.get(); }

  // Starts an analysis now or joins the one in flight. Throws StateError for a symbol the
  // analysis filter refuses.
  std::shared_future<DecisionPtr> analyze(const std::string& symbol);
  // Which symbols this runtime analyzes, when it is one node of many (the symbols it owns);
  // without a filter (null), all. Analyses the data would trigger for others are skipped.
  // Any time, any thread; `filter` is called on the feed's and the callers' threads.
  void set_analysis_filter(std::function<bool(const std::string& symbol)> filter);
  void wait_idle(const std::string& symbol);

  [[nodiscard]] SnapshotPtr snapshot(const std::string& symbol) const;
  // The symbol's indicators now, without copying its bars (nullopt before any data). Throws
  // UnknownSymbol.
  [[nodiscard]] std::optional<ind::IndicatorValues> indicators(const std::string& symbol) const;
  [[nodiscard]] const std::vector<std::string>& symbols() const;  // fixed at construction
  [[nodiscard]] Orchestrator& orchestrator() noexcept { return *orch_; }
  [[nodiscard]] const RuntimeOptions& options() const noexcept { return opts_; }
  [[nodiscard]] std::string feed_description() const;

  // A log record for the runtime's listeners (Python's logging, the native server's stderr);
  // nearly free when nobody listens at `level` (10 debug, 20 info, 30 warning, 40 error).
  void log(int level, const std::string& logger, const std::string& message);
  [[nodiscard]] bool logs(int level) const;

  // More listeners (the server's rooms, ...), added or removed at any time.
  void add_sink(std::shared_ptr<RuntimeSink> sink);
  void remove_sink(const RuntimeSink* sink);

 private:
  struct Symbol;
  class FeedBridge;

  Symbol& lookup(const std::string& symbol) const;  // normalizes; throws UnknownSymbol
  void ingest(Symbol& s, const Bar* bar, double price, double volume, std::int64_t ts_ms,
              bool live);
  void trigger(const std::string& symbol, Trigger why);
  void analyze_backfilled();  // the "initial" analysis of every symbol that has history
  void history_in();          // the back-fill is done (or the feed ended): start() returns
  void log(int level, const std::string& msg);
  [[nodiscard]] bool may_analyze(const std::string& symbol) const;

  RuntimeOptions opts_;
  std::shared_ptr<FanoutSink> sink_;  // the user's sink first, then add_sink()s
  std::map<std::string, std::unique_ptr<Symbol>> symbols_;  // fixed after construction
  std::shared_ptr<Scorer> scorer_;
  mutable std::mutex filter_mu_;  // only for filter_ (copied out, then called unlocked)
  std::shared_ptr<const std::function<bool(const std::string&)>> filter_;
  std::unique_ptr<Orchestrator> orch_;
  std::unique_ptr<Feed> feed_;
  std::unique_ptr<FeedBridge> bridge_;
  std::jthread feed_thread_;
  std::stop_source inline_stop_;  // a synchronous runtime's run_feed()
  bool feed_running_ = false;     // guarded by lifecycle_mu_: run_feed() runs once
  std::mutex lifecycle_mu_;
  std::mutex history_mu_;  // guards history_in_; never held across a call out
  std::condition_variable history_cv_;
  bool history_in_ = false;
  bool feed_done_ = false;  // guarded by history_mu_
  std::atomic<std::uint64_t> bars_ingested_{0};
  std::atomic<RuntimeState> state_{RuntimeState::Created};
};

}  // namespace gs
