#include "goldensignals/orchestrator/agent_stats.hpp"

#include <algorithm>
#include <cmath>

namespace gs {

int LatencyHistogram::bucket_of(double us) noexcept {
  if (!(us > 1.0)) return 0;
  int exp = 0;
  const double frac = std::frexp(us, &exp);  // us = frac * 2^exp, frac in [0.5, 1)
  const int sub = static_cast<int>((frac - 0.5) * 2.0 * kSub);
  return std::clamp((exp - 1) * kSub + sub, 0, kBuckets - 1);
}

double LatencyHistogram::upper_us(int b) noexcept {
  const int exp = b / kSub + 1;
  const int sub = b % kSub;
  return std::ldexp(0.5 + 0.5 * (sub + 1) / kSub, exp);
}

void LatencyHistogram::record(double ms) noexcept {
  if (!std::isfinite(ms) || ms < 0) ms = 0;
  ++b_[static_cast<std::size_t>(bucket_of(ms * 1000.0))];
  ++count_;
  sum_ms_ += ms;
}

double LatencyHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0.0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * count_));
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += b_[static_cast<std::size_t>(b)];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return upper_us(b) / 1000.0;
  }
  return upper_us(kBuckets - 1) / 1000.0;
}

std::uint64_t LatencyHistogram::count_at_most(double ms) const noexcept {
  std::uint64_t n = 0;
  for (int b = 0; b < kBuckets && upper_us(b) <= ms * 1000.0; ++b) {
    n += b_[static_cast<std::size_t>(b)];
  }
  return n;
}

}  // namespace gs
