// Scores forecasts against what the market did next, one convention for backtests and live:
// a forecast made on bar t's data (the consensus's BUY/SELL signal, or one agent's BUY/SELL
// vote) enters at the open of the first bar that starts after t (plus `entry_delay_bars`),
// is held `horizon_bars` bars, and exits at the close of the last of them, or earlier at its
// target or stop (both inside one bar: the stop counts; a gap through a level fills at the
// open). Direction skill (hit, forward return) is always judged over the whole horizon, so
// it does not depend on the levels; the trade's return does, and pays `cost_bps` per side.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goldensignals/core/types.hpp"
#include "goldensignals/orchestrator/events.hpp"

namespace gs {

struct ScoringOptions {
  int horizon_bars = 5;         // GS_SCORE_HORIZON: bars a forecast is judged over; 0: off
  double cost_bps = 0.0;        // GS_SCORE_COST_BPS: fees and half-spread per side, in bp
  int entry_delay_bars = 0;     // extra bars between the decision and the entry (0: next open)
  bool use_levels = true;       // exit early at the target or stop when the forecast has them
  std::size_t window = 100;     // rolling figures cover each source's last `window` scores
  std::size_t max_open = 4096;  // open forecasts per symbol, at most (bounds memory)
  std::size_t keep = 0;         // scored forecasts kept for take_scored() (backtests), at most
  // Analyses made on data older than this are not counted in SourceScore::analyses (a
  // backtest's warm-up); their forecasts are still scored.
  std::int64_t analyses_from_ms = std::numeric_limits<std::int64_t>::min();
  // Adaptive weights (opt-in): each agent's weight is multiplied by
  // clamp(exp(weight_gain * skill), weight_floor, weight_cap), where skill is the mean, over
  // its last `window` scored forecasts, of side * (forward return - drift) / sd, the drift and
  // sd being those of the symbol's recent forward returns. Below `min_scored`: 1.
  bool adaptive_weights = false;
  double weight_floor = 0.25;
  double weight_cap = 2.0;
  double weight_gain = 4.0;
  std::size_t min_scored = 20;
  void validate() const;
};

enum class ExitReason : std::uint8_t { Horizon, Target, Stop };
std::string_view to_string(ExitReason r) noexcept;

// One agent's entry in the analysis a consensus forecast came from.
struct ScoredBallot {
  std::string agent;
  std::string vote;  // BUY, SELL, HOLD, or the status: ABSTAIN, TIMEOUT, FAILED, DISABLED
  double confidence = 0.0;
};

// A forecast whose horizon has closed.
struct ScoredForecast {
  std::string symbol;
  std::string source;      // the agent's name; "consensus" for the consensus
  bool consensus = false;  // true for the consensus (an agent may be called "consensus" too)
  std::string analysis_id;
  std::string signal_id;  // the consensus's signal id; empty for agents
  Action action = Action::Buy;
  double confidence = 0.0;
  std::int64_t decided_ts_ms = 0;  // market time of the data the forecast was made on
  double decided_price = 0.0;
  std::optional<double> target_price;
  std::optional<double> stop_loss;
  std::int64_t entry_ts_ms = 0;
  double entry_price = 0.0;
  std::int64_t exit_ts_ms = 0;  // open time of the bar the trade left in
  double exit_price = 0.0;
  ExitReason exit_reason = ExitReason::Horizon;
  int bars_held = 0;                  // bars of the trade, entry bar included
  double forward_return = 0.0;        // close after horizon_bars / entry - 1, not directed
  double trade_return = 0.0;          // side * (exit / entry - 1), before costs
  double net_return = 0.0;            // trade_return less cost_bps on each side
  bool hit = false;                   // side * forward_return > 0
  std::vector<ScoredBallot> ballots;  // the consensus's only: every agent of its analysis
};

// Track record of one source.
struct SourceScore {
  std::string name;
  bool consensus = false;
  std::uint64_t analyses = 0;   // analyses it took part in
  std::uint64_t forecasts = 0;  // BUY/SELL forecasts it made
  std::uint64_t scored = 0;     // forecasts whose horizon closed
  std::uint64_t hits = 0;
  double brier_sum = 0.0;  // (confidence - hit)^2, summed
  double net_return_sum = 0.0;
  std::size_t open = 0;  // forecasts still waiting for their horizon
  // Over the last `window` scored forecasts.
  std::size_t recent = 0;
  std::size_t recent_skill_n = 0;  // of them, those with a drift estimate
  double recent_skill = 0.0;       // mean side * (forward return - drift) / sd
  double recent_hit_rate = 0.0;
  double recent_brier = 0.0;
  double recent_net_return = 0.0;
};

class Scorer {
 public:
  explicit Scorer(ScoringOptions opts);
  ~Scorer();
  Scorer(const Scorer&) = delete;
  Scorer& operator=(const Scorer&) = delete;

  // A completed bar of `symbol` (bars of one symbol in time order; any thread).
  void on_bar(const std::string& symbol, const Bar& bar);
  // An analysis' end: its consensus signal and every BUY/SELL vote become forecasts.
  void on_decision(const Decision& d);

  // Called with each forecast as its horizon closes (only the consensus's when
  // `consensus_only`), outside any lock of the scorer, on the thread that delivered the
  // closing bar. Set before data flows.
  void set_listener(std::function<void(const ScoredForecast&)> listener,
                    bool consensus_only = false);

  // The kept scored forecasts (at most `keep`), oldest first; the scorer forgets them.
  std::vector<ScoredForecast> take_scored();
  [[nodiscard]] std::vector<SourceScore> scores() const;
  // The factor on `agent`'s weight (1 unless adaptive_weights and it has min_scored scores);
  // `why`, when given and the factor is not 1, says why in a few words.
  [[nodiscard]] double weight_multiplier(const std::string& agent, std::string* why) const;
  [[nodiscard]] const ScoringOptions& options() const noexcept { return opts_; }
  // Forecasts not tracked because a symbol had `max_open` open ones, or not kept past `keep`.
  [[nodiscard]] std::uint64_t dropped() const;
  [[nodiscard]] std::uint64_t not_kept() const;

 private:
  struct Open;
  struct SymbolBook;
  struct Record;

  using Key = std::pair<bool, std::string>;  // (consensus, name)
  // Orders keys as std::pair would, and finds one by (bool, string_view) without a copy.
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      if (a.first != b.first) return a.first < b.first;
      return std::string_view(a.second) < std::string_view(b.second);
    }
  };
  Record& record_of(bool consensus, std::string_view name);  // mu_ held
  // Advances one open forecast by one bar; true when its horizon closed (filled into out).
  bool advance(Open& f, const Bar& bar, ScoredForecast& out) const;
  void record(const ScoredForecast& f, const SymbolBook& book);  // mu_ held
  // Records forecasts whose horizon closed and keeps them, in order (mu_ held); returns those
  // the listener is to hear (copies of the kept ones).
  std::vector<ScoredForecast> settle(std::vector<ScoredForecast>& done, const SymbolBook& book);
  [[nodiscard]] std::size_t recent_bars() const noexcept;

  ScoringOptions opts_;
  mutable std::mutex mu_;  // guards everything below; never held across a call out
  std::map<std::string, SymbolBook> books_;
  std::map<Key, Record, KeyLess> records_;
  std::vector<ScoredForecast> kept_;
  std::uint64_t dropped_ = 0;
  std::uint64_t not_kept_ = 0;
  std::function<void(const ScoredForecast&)> listener_;
  bool listener_consensus_only_ = false;
};

// {"horizon_bars", "cost_bps", "window", "dropped", "consensus": {...} | null,
//  "agents": [{name, analyses, forecasts, scored, open, hit_rate, brier, mean_net_return,
//              recent, recent_hit_rate, recent_brier, recent_net_return, recent_skill}]}
// (rates are null before anything was scored).
nlohmann::json scores_json(const Scorer& s);

// The protocol's signal_outcome data: {symbol, signal_id, analysis_id, action, confidence,
//  horizon_bars, market_time, entry_time, entry_price, exit_time, exit_price, exit_reason,
//  return (after costs), gross_return, forward_return, hit, timestamp}.
nlohmann::json outcome_json(const ScoredForecast& f, int horizon_bars);

}  // namespace gs
