#include "goldensignals/orchestrator/circuit_breaker.hpp"

namespace gs {

std::optional<std::string> CircuitBreaker::admit(Clock::time_point now) {
  if (open_ && now < until_) {
    return "circuit breaker open after " + std::to_string(consecutive_) +
           " consecutive faults (last: " + last_error_ + ")";
  }
  if (trial_) return "circuit breaker half-open: a trial call is in progress";
  if (open_) {  // the rest is over: this call is the trial
    open_ = false;
    trial_ = true;
  }
  return std::nullopt;
}

CircuitBreaker::Change CircuitBreaker::record(bool fault, const std::string& error,
                                              Clock::time_point now) {
  if (fault) {
    last_error_ = error;
    ++consecutive_;
    if (!open_ && (trial_ || consecutive_ >= faults_)) {
      open_ = true;
      trial_ = false;
      until_ = now + cooldown_;
      return Change::Opened;
    }
    return Change::None;
  }
  consecutive_ = 0;
  if (trial_) {
    trial_ = false;
    return Change::Closed;
  }
  return Change::None;
}

const char* CircuitBreaker::state(Clock::time_point now) const {
  if (open_) return enabled(now) ? "half_open" : "open";
  return trial_ ? "half_open" : "closed";
}

}  // namespace gs
