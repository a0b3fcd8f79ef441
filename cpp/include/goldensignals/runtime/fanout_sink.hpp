// Delivers every runtime event to several sinks (Python callbacks, the server's rooms...).
// Sinks can be added while events flow: readers take a snapshot of the list, never a lock
// across a delivery.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "goldensignals/runtime/runtime.hpp"

namespace gs {

class FanoutSink final : public RuntimeSink {
 public:
  void add(std::shared_ptr<RuntimeSink> s) {
    std::lock_guard lk(mu_);
    auto next = std::make_shared<List>(*list_);
    next->push_back(std::move(s));
    list_ = std::move(next);
  }
  // After it returns, the removed sink is neither called nor held here: deliveries that
  // began before the swap still hold the old list, and are waited out (they never block).
  // Not to be called from inside a delivery.
  void remove(const RuntimeSink* s) {
    std::shared_ptr<const List> old;
    {
      std::lock_guard lk(mu_);
      old = list_;
      auto next = std::make_shared<List>(*list_);
      std::erase_if(*next, [&](const auto& x) { return x.get() == s; });
      list_ = std::move(next);
    }
    while (old.use_count() > 1) std::this_thread::yield();
  }

  void on_agent_update(const AgentUpdate& u) override {
    each([&](RuntimeSink& s) { s.on_agent_update(u); });
  }
  void on_decision(const DecisionPtr& d) override {
    each([&](RuntimeSink& s) { s.on_decision(d); });
  }
  void on_alert(const Alert& a) override {
    each([&](RuntimeSink& s) { s.on_alert(a); });
  }
  void on_price_update(const PriceUpdate& p) override {
    each([&](RuntimeSink& s) { s.on_price_update(p); });
  }
  void on_signal_outcome(const ScoredForecast& f) override {
    each([&](RuntimeSink& s) { s.on_signal_outcome(f); });
  }
  void on_log(int level, const std::string& logger, const std::string& message) override {
    each([&](RuntimeSink& s) {
      if (level >= s.log_level()) s.on_log(level, logger, message);
    });
  }
  [[nodiscard]] int log_level() const override {
    int least = 50;
    each([&](RuntimeSink& s) { least = std::min(least, s.log_level()); });
    return least;
  }

 private:
  using List = std::vector<std::shared_ptr<RuntimeSink>>;
  template <typename F>
  void each(F&& f) const {
    const auto list = snapshot();  // named: a temporary in the range-for would die before the loop
    for (const auto& s : *list) f(*s);
  }
  [[nodiscard]] std::shared_ptr<const List> snapshot() const {
    std::lock_guard lk(mu_);
    return list_;
  }
  mutable std::mutex mu_;
  std::shared_ptr<const List> list_ = std::make_shared<List>();
};

}  // namespace gs
