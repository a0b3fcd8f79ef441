// The agents' circuit breaker on its own: when it opens, what it answers while open, the one
// trial call when its rest is over, and what that trial's outcome does.
#include <gtest/gtest.h>

#include "goldensignals/orchestrator/circuit_breaker.hpp"

namespace gs {
namespace {

using namespace std::chrono_literals;
using Change = CircuitBreaker::Change;

TEST(CircuitBreaker, OpensAfterTheConsecutiveFaultsAndRestsForTheCooldown) {
  CircuitBreaker b(3, 1000ms);
  const auto t0 = CircuitBreaker::Clock::now();
  EXPECT_EQ(b.record(true, "timeout", t0), Change::None);
  EXPECT_EQ(b.record(false, "", t0), Change::None);  // a success resets the count
  EXPECT_EQ(b.consecutive(), 0);
  EXPECT_EQ(b.record(true, "a", t0), Change::None);
  EXPECT_EQ(b.record(true, "b", t0), Change::None);
  EXPECT_FALSE(b.admit(t0).has_value());
  EXPECT_STREQ(b.state(t0), "closed");
  EXPECT_EQ(b.record(true, "boom", t0), Change::Opened);
  EXPECT_FALSE(b.enabled(t0 + 999ms));
  EXPECT_STREQ(b.state(t0 + 999ms), "open");
  const auto why = b.admit(t0 + 999ms);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "circuit breaker open after 3 consecutive faults (last: boom)");
  EXPECT_EQ(b.last_error(), "boom");
}

TEST(CircuitBreaker, OneTrialCallAfterTheRestDecidesIt) {
  CircuitBreaker b(1, 100ms);
  const auto t0 = CircuitBreaker::Clock::now();
  EXPECT_EQ(b.record(true, "first", t0), Change::Opened);
  const auto later = t0 + 100ms;
  EXPECT_TRUE(b.enabled(later));
  EXPECT_STREQ(b.state(later), "half_open");
  EXPECT_FALSE(b.admit(later).has_value());  // the trial
  const auto second = b.admit(later);         // while the trial is out
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, "circuit breaker half-open: a trial call is in progress");
  EXPECT_EQ(b.record(true, "again", later), Change::Opened);  // a failed trial rests again
  EXPECT_FALSE(b.enabled(later + 99ms));
  const auto after = later + 100ms;
  EXPECT_FALSE(b.admit(after).has_value());
  EXPECT_EQ(b.record(false, "", after), Change::Closed);  // a good trial closes it
  EXPECT_STREQ(b.state(after), "closed");
  EXPECT_EQ(b.consecutive(), 0);
  EXPECT_FALSE(b.admit(after).has_value());
  EXPECT_FALSE(b.admit(after).has_value());  // closed: every call goes
}

}  // namespace
}  // namespace gs
