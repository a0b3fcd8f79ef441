// Per-agent counters, latency percentiles and circuit-breaker state.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace gs {

// Log-linear latency histogram: 8 sub-buckets per power of two from 1 us to ~70 s.
class LatencyHistogram {
 public:
  void record(double ms) noexcept;
  // q in [0, 1]; 0 when empty. Upper bound of the bucket that holds the q-quantile.
  [[nodiscard]] double quantile(double q) const noexcept;
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  // Cumulative counts at the given upper bounds (ms), for Prometheus-style histograms.
  [[nodiscard]] std::uint64_t count_at_most(double ms) const noexcept;
  [[nodiscard]] double sum_ms() const noexcept { return sum_ms_; }

 private:
  static constexpr int kSub = 8;
  static constexpr int kBuckets = 27 * kSub;
  static int bucket_of(double us) noexcept;
  static double upper_us(int b) noexcept;
  std::array<std::uint64_t, kBuckets> b_{};
  std::uint64_t count_ = 0;
  double sum_ms_ = 0.0;
};

struct AgentStatsView {
  std::string name;
  std::string kind;  // "native" | "python"
  double weight = 1.0;
  double timeout_ms = 0.0;
  std::uint64_t calls = 0;
  std::uint64_t votes = 0;
  std::uint64_t abstentions = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t errors = 0;
  std::uint64_t late = 0;  // answers that arrived after their deadline (never counted)
  LatencyHistogram latency;  // every answer's latency (timeouts are not answers)
  bool enabled = true;
  std::string state;  // "closed" (healthy), "open" (tripped, resting), "half_open" (on trial)
  int consecutive_faults = 0;
  std::string last_error;
};

}  // namespace gs
