// Market data sources behind one interface: simulated, replayed, or pushed by the user.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "goldensignals/core/types.hpp"

namespace gs {

// Where a feed delivers. Implemented by the Runtime.
class FeedSink {
 public:
  virtual ~FeedSink() = default;
  // live == false: history back-fill (updates state; no price update, no trigger).
  virtual void on_bar(const std::string& symbol, const Bar& bar, bool live) = 0;
  // The back-fill is complete: symbols with history can be analysed at once.
  virtual void on_history_done() {}
  // Blocks until no analysis of `symbol` is in flight (replay as fast as possible).
  virtual void wait_idle(const std::string& symbol) = 0;
  // Reports a problem the feed cannot fix (a bad row, a stalled source).
  virtual void on_feed_problem(const std::string& code, const std::string& message) = 0;
};

class Feed {
 public:
  virtual ~Feed() = default;
  // Runs until the data ends or stop is requested; on its own thread.
  virtual void run(FeedSink& sink, std::stop_token stop) = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
  // The symbols this feed brings by itself (a replay's); empty: it serves the runtime's.
  [[nodiscard]] virtual std::vector<std::string> own_symbols() const { return {}; }
  // Called once before run() with the runtime's symbols.
  virtual void bind(const std::vector<std::string>& symbols) { (void)symbols; }
  // True when run() begins with a history back-fill that ends with on_history_done():
  // Runtime::start() returns only after it (or after run() ends, whichever comes first).
  [[nodiscard]] virtual bool backfills() const { return false; }
};

// Geometric Brownian motion per symbol, deterministic for a seed.
struct SimulatedFeedOptions {
  std::uint64_t seed = 7;
  double drift = 0.0;          // expected log-return per bar
  double volatility = 0.004;   // standard deviation of the log-return per bar
  double interval_s = 1.0;     // real seconds between bars (0: as fast as possible)
  std::size_t backfill = 300;  // bars of history made at start, so agents vote at once
  std::int64_t max_bars = -1;  // live bars to emit, -1: until stopped
  double base_volume = 1.0e6;  // mean volume per bar
  std::map<std::string, double> start_prices;  // default: a stable price per symbol name
  void validate() const;
};

std::unique_ptr<Feed> make_simulated_feed(SimulatedFeedOptions opts);

// Bars replayed in time order (across symbols). speed 0: as fast as possible, waiting for
// each triggered analysis so results are deterministic; else a multiple of real time.
struct ReplayFeedOptions {
  std::map<std::string, std::vector<Bar>> bars;  // per symbol, any order (sorted on start)
  double speed = 0.0;
  void validate() const;
};

std::unique_ptr<Feed> make_replay_feed(ReplayFeedOptions opts);

}  // namespace gs
