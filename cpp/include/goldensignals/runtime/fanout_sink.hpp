// Delivers every runtime event to several sinks (Python callbacks, the server's rooms...).
// Sinks can be added while events flow: readers take a snapshot of the list, never a lock
// across a delivery.
#pragma once

#include <algorithm>
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
  void remove(const RuntimeSink* s) {
    std::lock_guard lk(mu_);
    auto next = std::make_shared<List>(*list_);
    std::erase_if(*next, [&](const auto& x) { return x.get() == s; });
    list_ = std::move(next);
  }

  void on_agent_update(const AgentUpdate& u) override {
    const auto list = snapshot();  // named: a temporary here would die before the loop
    for (const auto& s : *list) s->on_agent_update(u);
  }
  void on_decision(const DecisionPtr& d) override {
    const auto list = snapshot();  // named: a temporary here would die before the loop
    for (const auto& s : *list) s->on_decision(d);
  }
  void on_alert(const Alert& a) override {
    const auto list = snapshot();  // named: a temporary here would die before the loop
    for (const auto& s : *list) s->on_alert(a);
  }
  void on_price_update(const PriceUpdate& p) override {
    const auto list = snapshot();  // named: a temporary here would die before the loop
    for (const auto& s : *list) s->on_price_update(p);
  }
  void on_log(int level, const std::string& logger, const std::string& message) override {
    const auto list = snapshot();
    for (const auto& s : *list) {
      if (level >= s->log_level()) s->on_log(level, logger, message);
    }
  }
  [[nodiscard]] int log_level() const override {
    int least = 50;
    const auto list = snapshot();
    for (const auto& s : *list) least = std::min(least, s->log_level());
    return least;
  }

 private:
  using List = std::vector<std::shared_ptr<RuntimeSink>>;
  [[nodiscard]] std::shared_ptr<const List> snapshot() const {
    std::lock_guard lk(mu_);
    return list_;
  }
  mutable std::mutex mu_;
  std::shared_ptr<const List> list_ = std::make_shared<List>();
};

}  // namespace gs
