// Analog: votes with what followed the past setups most like the present one.
//
// Each bar gets a feature vector computed from that bar and the ones before it only (see
// analog_features). Once a bar's outcome is known (the bar `horizon` bars later has closed),
// the vector and its forward log return go into the symbol's memory. An analysis retrieves
// the k nearest vectors whose outcome was known at the analysis' time (the as-of filter,
// exact whatever the index), weighs each by its closeness, and votes the weighted sign of
// what followed them; the confidence grows with how much they agree.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "goldensignals/agents/agent.hpp"

namespace gs {

inline constexpr std::size_t kAnalogDims = 9;
using AnalogVector = std::array<float, kAnalogDims>;

struct AnalogOptions {
  std::size_t k = 20;             // analogs per vote
  std::size_t horizon = 5;        // bars after an analog over which its outcome is measured
  std::size_t min_history = 50;   // abstain until this many outcomes are known
  double min_agreement = 0.2;     // |weighted agreement| below this holds
  bool cross_symbol = false;      // also retrieve other symbols' setups (same as-of rule)
  std::size_t exact_limit = 50'000;  // candidates up to which the search is exact (else HNSW)
  std::size_t hnsw_m = 16, hnsw_ef_construction = 100, hnsw_ef_search = 64;
  std::uint64_t seed = 42;        // the HNSW graph's random levels
  std::size_t max_vectors = 1'000'000;  // per symbol; past it, newer bars are not learnt
  // Controls for the evaluation, never for use: `as_of = false` lets retrieval see outcomes
  // that were not yet known (a leak, which must inflate the measured skill), and
  // `shuffle_outcomes` pairs every vector with another bar's outcome (no skill may remain).
  bool as_of = true;
  bool shuffle_outcomes = false;

  void validate() const;  // throws InvalidArgument naming the field, the value and the range
};

// The features of bar j from closes and volumes up to j (needs j >= 60), or nothing when
// the last 20 bars did not move. Scale-free, each clipped to [-5, 5]:
//   0-3  log returns over 1, 5, 20 and 60 bars, each over vol20 * sqrt(bars)
//   4    log(vol20 / vol60), vol = standard deviation of 1-bar log returns
//   5    (RSI(14) - 50) / 25, RSI from the simple averages of the last 14 gains and losses
//   6-7  log(close / SMA(20 and 50)) over vol20 * sqrt(20 and 50)
//   8    volume z-score over the last 20 bars (0 when volume is flat)
std::optional<AnalogVector> analog_features(const double* close, const double* volume,
                                            std::size_t j);

// One retrieved analog.
struct AnalogMatch {
  std::string symbol;
  std::int64_t time_ms = 0;     // the analog bar's time
  double distance = 0;          // Euclidean, in feature units
  double forward_return = 0;    // log return over the horizon that followed it
};

class Analog final : public Agent {
 public:
  explicit Analog(AnalogOptions o = {}, AgentSpec spec = default_spec());
  ~Analog() override;
  static AgentSpec default_spec();

  // Learns new bars from the snapshot (those after the last one seen of its symbol), then
  // votes from the analogs known at the snapshot's last bar.
  [[nodiscard]] std::optional<Vote> analyze(const AgentContext& ctx) const override;

  // Learns a history (oldest first) before any analysis: a backtest's data, or the bars a
  // server stored. Bars at or before the last one learnt of `symbol` are skipped.
  void learn(const std::string& symbol, const std::vector<std::int64_t>& time_ms,
             const std::vector<double>& close, const std::vector<double>& volume) const;

  // The k nearest analogs of a feature vector among the setups of `symbol` (every symbol's
  // with cross_symbol) known at `as_of_ms`, nearest first: what a vote at that time reads.
  [[nodiscard]] std::vector<AnalogMatch> nearest(const AnalogVector& query,
                                                 const std::string& symbol,
                                                 std::int64_t as_of_ms) const;

  [[nodiscard]] std::size_t size() const;  // vectors stored, every symbol
  [[nodiscard]] const AnalogOptions& options() const noexcept { return opts_; }

  struct Memory;  // one symbol's bars, vectors and index

 private:
  struct Found {
    std::vector<AnalogMatch> hits;
    std::size_t eligible = 0;  // setups searched (known at the time)
  };
  Memory& memory(const std::string& symbol) const;
  Found search(const AnalogVector& q, const std::string& symbol, std::int64_t as_of_ms) const;

  AnalogOptions opts_;
  mutable std::shared_mutex mu_;  // the map; each Memory has its own lock
  mutable std::unordered_map<std::string, std::unique_ptr<Memory>> memories_;
};

}  // namespace gs
