// Test doubles shared by the C++ tests: a recording sink and scriptable agents.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "goldensignals/agents/agent.hpp"
#include "goldensignals/runtime/runtime.hpp"

namespace gs::test {

class RecordingSink final : public RuntimeSink {
 public:
  void on_agent_update(const AgentUpdate& u) override {
    std::lock_guard lk(mu);
    updates.push_back(u);
    cv.notify_all();
  }
  void on_decision(const DecisionPtr& d) override {
    std::lock_guard lk(mu);
    decisions.push_back(d);
    cv.notify_all();
  }
  void on_alert(const Alert& a) override {
    std::lock_guard lk(mu);
    alerts.push_back(a);
    cv.notify_all();
  }
  void on_price_update(const PriceUpdate& p) override {
    std::lock_guard lk(mu);
    prices.push_back(p);
  }
  void on_log(int, const std::string&, const std::string&) override {}

  // Waits (bounded) until at least n decisions arrived; true if they did.
  bool wait_decisions(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, limit, [&] { return decisions.size() >= n; });
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<AgentUpdate> updates;
  std::vector<DecisionPtr> decisions;
  std::vector<Alert> alerts;
  std::vector<PriceUpdate> prices;
};

// Votes a fixed way after an optional delay; can be told to throw or to return garbage.
class ScriptedAgent final : public Agent {
 public:
  ScriptedAgent(std::string name, Action a, double conf,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(1000))
      : Agent(AgentSpec{std::move(name), 1.0, timeout, AgentKind::Native}),
        action_(a),
        conf_(conf) {}

  std::optional<Vote> analyze(const AgentContext&) const override {
    calls.fetch_add(1);
    if (fail.load()) throw std::runtime_error("scripted failure");
    if (abstain.load()) return std::nullopt;
    Vote v;
    v.action = action_;
    v.confidence = garbage.load() ? std::numeric_limits<double>::quiet_NaN() : conf_;
    v.reasoning = {name() + " says so"};
    return v;
  }

  mutable std::atomic<int> calls{0};
  std::atomic<bool> fail{false}, abstain{false}, garbage{false};

 private:
  Action action_;
  double conf_;
};

// Answers on its own thread only when released: models a slow or stuck remote model.
class GatedAgent final : public Agent {
 public:
  GatedAgent(std::string name, std::chrono::milliseconds timeout)
      : Agent(AgentSpec{std::move(name), 1.0, timeout, AgentKind::Python}) {}
  ~GatedAgent() override {
    release();
    for (auto& t : threads_) t.join();
  }
  std::optional<Vote> analyze(const AgentContext&) const override { return std::nullopt; }
  void start(std::shared_ptr<const AgentContext>, Deadline, Done done) const override {
    std::lock_guard lk(mu_);
    threads_.emplace_back([this, done = std::move(done)] {
      {
        std::unique_lock lk2(mu_);
        cv_.wait(lk2, [&] { return released_; });
      }
      Vote v;
      v.action = Action::Sell;
      v.confidence = 0.99;
      done(AgentOutcome{v, false, ""});
    });
  }
  void release() {
    std::lock_guard lk(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<std::thread> threads_;
  bool released_ = false;
};

// A rising series of bars, one minute apart.
inline std::vector<Bar> rising_bars(std::size_t n, double start = 100.0, double step = 0.1) {
  std::vector<Bar> out;
  for (std::size_t i = 0; i < n; ++i) {
    const double c = start + step * static_cast<double>(i);
    out.push_back(Bar{1'700'000'000'000LL + static_cast<std::int64_t>(i) * 60'000, c - step / 2,
                      c + 0.2, c - step / 2 - 0.2, c, 1000.0 + static_cast<double>(i)});
  }
  return out;
}

}  // namespace gs::test
