// Carries runtime events to Python callbacks on one thread of its own, in order, through a
// bounded queue: compute threads only enqueue (never the GIL), the pump calls Python.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

#include "goldensignals/runtime/runtime.hpp"

namespace gs::bind {

struct LogRecord {
  int level;
  std::string logger;
  std::string message;
};
using Event = std::variant<AgentUpdate, DecisionPtr, Alert, PriceUpdate, LogRecord>;

class EventPump final : public RuntimeSink, public std::enable_shared_from_this<EventPump> {
 public:
  // dispatch(kind: str, payload) is called on the pump thread with the GIL held.
  EventPump(pybind11::object dispatch, std::size_t capacity);
  ~EventPump() override;
  // Starts the thread; it keeps the pump alive until it ends, so a callback that drops the
  // last reference to the runtime cannot pull the pump out from under itself.
  void start();

  // The kinds Python listens to; the others are never queued (no object is made for them).
  enum Kind : unsigned { kAgentUpdate = 1, kDecision = 2, kPriceUpdate = 4 };
  void set_wanted(unsigned kinds) { wanted_.store(kinds, std::memory_order_relaxed); }
  [[nodiscard]] bool wants(Kind k) const noexcept {
    return (wanted_.load(std::memory_order_relaxed) & k) != 0;
  }

  void on_agent_update(const AgentUpdate& u) override {
    if (wants(kAgentUpdate)) push(u);
  }
  void on_decision(const DecisionPtr& d) override {
    if (wants(kDecision)) push(d);
  }
  void on_alert(const Alert& a) override { push(a); }  // always: Python logs them
  void on_price_update(const PriceUpdate& p) override {
    if (wants(kPriceUpdate)) push(p);
  }
  void on_log(int level, const std::string& logger, const std::string& message) override {
    push(LogRecord{level, logger, message});
  }
  [[nodiscard]] int log_level() const override { return level_.load(std::memory_order_relaxed); }
  void set_log_level(int level) { level_.store(level); }

  // A full queue makes the producer wait instead of dropping the event (a synchronous
  // runtime: its one thread may wait, and every decision must reach Python). Never call a
  // blocking pump's producers with the GIL held.
  void set_block_when_full(bool block) { block_ = block; }

  // Delivers what is queued, then stops the thread. Call without the GIL.
  void stop();
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(); }
  [[nodiscard]] std::size_t queued() const;

 private:
  void push(Event e);
  void run();
  void loop(const pybind11::object& get_level);  // run()'s body, between taking and giving the GIL

  std::unique_ptr<pybind11::object> dispatch_;  // released on the pump thread, with the GIL
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable room_cv_;  // a blocking producer waits here for room
  std::deque<Event> queue_;
  bool block_ = false;  // set before start()
  bool stopping_ = false;
  std::atomic<int> level_{20};
  std::atomic<unsigned> wanted_{kAgentUpdate | kDecision | kPriceUpdate};
  std::atomic<std::uint64_t> dropped_{0};
  std::mutex join_mu_;
  std::thread thread_;
};

}  // namespace gs::bind
