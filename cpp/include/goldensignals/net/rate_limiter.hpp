// A token bucket per client: `per_second` tokens refill continuously, at most `burst` saved.
#pragma once

#include <algorithm>
#include <chrono>

#include "goldensignals/net/options.hpp"

namespace gs {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TokenBucket(RateLimit r, Clock::time_point now = Clock::now())
      : rate_(r), tokens_(r.burst), last_(now) {}

  // Takes one token if there is one; else returns false and how long until there will be.
  bool take(double& retry_after_s, Clock::time_point now = Clock::now()) {
    const double dt = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(rate_.burst, tokens_ + std::max(0.0, dt) * rate_.per_second);
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      retry_after_s = 0.0;
      return true;
    }
    retry_after_s = (1.0 - tokens_) / rate_.per_second;
    return false;
  }

 private:
  RateLimit rate_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace gs
