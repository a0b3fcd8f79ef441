// An agent's circuit breaker. Closed: calls go through. After `faults` consecutive faults
// (timeouts, failures) it opens: calls are refused for `cooldown`. Then the next call is a
// trial (half-open) and the others are refused meanwhile: a fault opens it again, a success
// closes it. Not thread-safe: its owner's lock guards it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace gs {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Change { None, Opened, Closed };

  CircuitBreaker(int faults, std::chrono::milliseconds cooldown)
      : faults_(faults), cooldown_(cooldown) {}

  // Whether a call may go at `now`: nothing when it may (an open breaker whose rest is over
  // takes it as its trial), else why not.
  [[nodiscard]] std::optional<std::string> admit(Clock::time_point now);
  // A call's outcome; says whether the breaker opened or closed with it.
  Change record(bool fault, const std::string& error, Clock::time_point now);

  [[nodiscard]] bool enabled(Clock::time_point now) const { return !(open_ && now < until_); }
  // "closed", "open" (resting), or "half_open" (its rest is over, or a trial is on).
  [[nodiscard]] const char* state(Clock::time_point now) const;
  [[nodiscard]] int consecutive() const { return consecutive_; }
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  [[nodiscard]] std::chrono::milliseconds cooldown() const { return cooldown_; }

 private:
  int faults_;
  std::chrono::milliseconds cooldown_;
  int consecutive_ = 0;
  bool open_ = false;
  bool trial_ = false;  // half-open: the trial call is out
  Clock::time_point until_{};
  std::string last_error_;
};

}  // namespace gs
