// FanoutSink::remove: after it returns the removed sink is never called again nor held, and it
// waits (on a condition) for deliveries that began before it, including those of older lists.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "goldensignals/runtime/fanout_sink.hpp"

namespace {

using namespace gs;
using namespace std::chrono_literals;

class Gate final : public RuntimeSink {
 public:
  void on_agent_update(const AgentUpdate&) override {}
  void on_decision(const DecisionPtr&) override {}
  void on_alert(const Alert&) override {}
  void on_price_update(const PriceUpdate&) override {
    calls.fetch_add(1);
    entered.store(true);
    while (!open.load()) std::this_thread::sleep_for(1ms);
  }
  void on_log(int, const std::string&, const std::string&) override {}
  std::atomic<int> calls{0};
  std::atomic<bool> entered{false}, open{false};
};

TEST(FanoutSink, RemoveWaitsForDeliveriesInFlightThenTheSinkIsNeverCalled) {
  FanoutSink fan;
  auto gate = std::make_shared<Gate>();
  auto other = std::make_shared<Gate>();
  other->open.store(true);
  fan.add(gate);
  fan.add(other);
  std::thread delivery([&] { fan.on_price_update(PriceUpdate{}); });
  while (!gate->entered.load()) std::this_thread::sleep_for(1ms);
  // Both wait: the delivery in flight holds the list with both sinks.
  auto removed_other = std::async(std::launch::async, [&] { fan.remove(other.get()); });
  auto removed_gate = std::async(std::launch::async, [&] { fan.remove(gate.get()); });
  EXPECT_EQ(removed_other.wait_for(100ms), std::future_status::timeout);
  EXPECT_EQ(removed_gate.wait_for(1ms), std::future_status::timeout);
  gate->open.store(true);
  removed_other.get();
  removed_gate.get();
  // Neither is held any more, even before the delivery's thread is done: whoever drops the
  // last other reference destroys it (the server: on its own thread, before its I/O ends).
  EXPECT_EQ(gate.use_count(), 1);
  EXPECT_EQ(other.use_count(), 1);
  delivery.join();
  const int before = gate->calls.load() + other->calls.load();
  fan.on_price_update(PriceUpdate{});
  EXPECT_EQ(gate->calls.load() + other->calls.load(), before);  // neither is called any more
}

}  // namespace
