// Delivers every runtime event to several sinks (Python callbacks, the server's rooms...).
// Sinks can be added while events flow: readers take a snapshot of the list, never a lock
// across a delivery.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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
  // began before the swap still use the old list, and are waited for (on a condition; they
  // never block). Not to be called from inside a delivery.
  void remove(const RuntimeSink* s) {
    std::shared_ptr<const List> old;  // released after the wait, outside the lock
    std::unique_lock lk(mu_);
    old = list_;
    auto next = std::make_shared<List>(*list_);
    std::erase_if(*next, [&](const auto& x) { return x.get() == s; });
    list_ = std::move(next);
    const std::uint64_t before = generation_++;
    done_.wait(lk, [&] { return in_flight_.empty() || in_flight_.begin()->first > before; });
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
    // Counts the delivery out even if a sink throws, after letting go of the list: once
    // remove() returns, a removed sink is destroyed by its last other owner, on its thread.
    struct Delivery {
      const FanoutSink& self;
      std::shared_ptr<const List> list;
      std::uint64_t gen = 0;
      ~Delivery() {
        list.reset();
        std::lock_guard lk(self.mu_);
        auto it = self.in_flight_.find(gen);
        if (--it->second == 0) {
          self.in_flight_.erase(it);
          self.done_.notify_all();
        }
      }
    };
    Delivery d{*this, nullptr};
    {
      std::lock_guard lk(mu_);
      d.list = list_;
      d.gen = generation_;
      ++in_flight_[d.gen];
    }
    for (const auto& s : *d.list) f(*s);
  }
  mutable std::mutex mu_;  // the fields below; never held across a delivery
  std::shared_ptr<const List> list_ = std::make_shared<List>();
  std::uint64_t generation_ = 0;  // bumped by each remove()
  mutable std::map<std::uint64_t, std::size_t> in_flight_;  // deliveries per generation
  mutable std::condition_variable done_;                    // an in_flight_ count reached 0
};

}  // namespace gs
