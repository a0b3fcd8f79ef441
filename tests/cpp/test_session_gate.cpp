// SessionGate: the connection slots in total and per address, the paced-replay places, and
// the wait Server::stop() makes for every session to go.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "goldensignals/net/server_parts.hpp"

namespace gs {
namespace {

using namespace std::chrono_literals;

ServerOptions gate_options(std::size_t max_connections, std::size_t per_address) {
  ServerOptions o;
  o.max_connections = max_connections;
  o.max_connections_per_ip = per_address;
  return o;
}

TEST(SessionGate, ConnectionSlotsStopAtTheLimitAndComeBack) {
  ServerCounters counters;
  SessionGate gate(gate_options(2, 10), counters);
  EXPECT_TRUE(gate.open_connection());
  EXPECT_TRUE(gate.open_connection());
  EXPECT_FALSE(gate.open_connection());
  EXPECT_EQ(counters.connections_active.load(), 2U);
  EXPECT_EQ(counters.connections_rejected.load(), 1U);
  gate.connection_closed();
  EXPECT_TRUE(gate.open_connection());
  EXPECT_EQ(counters.connections_active.load(), 2U);
}

// Many threads racing for the last slots never overshoot the limit.
TEST(SessionGate, ConcurrentOpeningsNeverOvershoot) {
  ServerCounters counters;
  SessionGate gate(gate_options(50, 10), counters);
  std::atomic<int> got{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (gate.open_connection()) got.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(got.load(), 50);
  EXPECT_EQ(counters.connections_active.load(), 50U);
  EXPECT_EQ(counters.connections_rejected.load(), 750U);
}

TEST(SessionGate, EachAddressHasItsOwnSlots) {
  ServerCounters counters;
  SessionGate gate(gate_options(100, 2), counters);
  auto a1 = gate.hold_address("10.0.0.1");
  auto a2 = gate.hold_address("10.0.0.1");
  EXPECT_TRUE(a1);
  EXPECT_TRUE(a2);
  EXPECT_FALSE(gate.hold_address("10.0.0.1"));
  EXPECT_TRUE(gate.hold_address("10.0.0.2"));  // released again at once
  EXPECT_EQ(gate.addresses(), 1U);
  a1 = IpTable::Slot{};  // one session of 10.0.0.1 ends
  EXPECT_TRUE(gate.hold_address("10.0.0.1"));
}

TEST(SessionGate, PacedReplaysHaveALimitedNumberOfPlaces) {
  ServerCounters counters;
  SessionGate gate(gate_options(10, 10), counters);
  EXPECT_TRUE(gate.start_replay(2));
  EXPECT_TRUE(gate.start_replay(2));
  EXPECT_FALSE(gate.start_replay(2));
  gate.replay_ended();
  EXPECT_TRUE(gate.start_replay(2));
}

// wait_idle returns once the last session closes, well before its deadline, and waits for a
// paced replay to end even past the deadline.
TEST(SessionGate, WaitIdleWaitsForSessionsThenForReplays) {
  ServerCounters counters;
  SessionGate gate(gate_options(10, 10), counters);
  ASSERT_TRUE(gate.open_connection());
  ASSERT_TRUE(gate.start_replay(8));
  std::atomic<bool> replay_over{false};
  std::thread sessions([&] {
    std::this_thread::sleep_for(50ms);
    gate.connection_closed();
    std::this_thread::sleep_for(200ms);
    replay_over.store(true);
    gate.replay_ended();
  });
  gate.wait_idle(std::chrono::steady_clock::now() + 10ms);  // the deadline passes first
  EXPECT_TRUE(replay_over.load());
  EXPECT_EQ(counters.connections_active.load(), 0U);
  sessions.join();
}

TEST(SessionGate, TheStopFlagIsSeenByEveryone) {
  ServerCounters counters;
  SessionGate gate(gate_options(10, 10), counters);
  EXPECT_FALSE(gate.stopping());
  gate.set_stopping(true);
  EXPECT_TRUE(gate.stopping());
  gate.set_stopping(false);
  EXPECT_FALSE(gate.stopping());
}

}  // namespace
}  // namespace gs
