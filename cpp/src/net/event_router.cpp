#include "goldensignals/net/event_router.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <utility>

#include "goldensignals/broadcast/bus.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/net/server_parts.hpp"
#include "goldensignals/runtime/runtime.hpp"

namespace gs {

namespace {

std::string message(const char* type, nlohmann::json data) {
  return nlohmann::json{{"type", type}, {"data", std::move(data)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

EventRouter::EventRouter(std::shared_ptr<const RouterParts> parts,
                         boost::asio::any_io_executor strand)
    : parts_(std::move(parts)), strand_(std::move(strand)) {}

void EventRouter::on_agent_update(const AgentUpdate& u) {
  post(u.symbol, MessageKind::AgentUpdate, message("agent_update", agent_update_json(u)));
}

void EventRouter::on_decision(const DecisionPtr& d) {
  // One append for both: the signal_update always precedes its decision_update.
  Journaled items;
  if (d->has_signal()) {
    items.emplace_back(MessageKind::SignalUpdate, message("signal_update", signal_json(*d)));
  }
  items.emplace_back(MessageKind::DecisionUpdate, message("decision_update", decision_json(*d)));
  journal(d->symbol, std::move(items));
}

void EventRouter::on_signal_outcome(const ScoredForecast& f) {
  post(f.symbol, MessageKind::SignalOutcome,
       message("signal_outcome", outcome_json(f, parts_->outcome_horizon_bars)));
}

void EventRouter::on_alert(const Alert& a) {
  post({}, MessageKind::Alert,
       alert_json(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void EventRouter::on_price_update(const PriceUpdate& p) {
  // Shed prices first under overload: a newer one follows, nothing ordered is lost.
  if (backlog_.load() >= parts_->event_queue_size) {
    parts_->counters.events_dropped.fetch_add(1);
    return;
  }
  post(p.symbol, MessageKind::PriceUpdate,
       message("price_update", {{"symbol", p.symbol},
                                {"price", p.price},
                                {"volume", p.volume},
                                {"change", p.change},
                                {"change_percent", p.change_percent},
                                {"timestamp", iso8601_ms(p.ts_ms)}}));
}

void EventRouter::post(std::string symbol, MessageKind kind, std::string body) {
  if (is_room_kind(kind) && !symbol.empty()) {
    Journaled items;
    items.emplace_back(kind, std::move(body));
    journal(symbol, std::move(items));
    return;
  }
  if (stopped_.load()) return;
  bool post = false;
  {
    std::lock_guard lk(inbox_mu_);
    inbox_.push_back(Item{kind, std::move(body)});
    post = !std::exchange(drain_posted_, true);
  }
  if (post) boost::asio::post(strand_, [self = shared_from_this()] { self->drain(); });
}

void EventRouter::journal(const std::string& symbol, Journaled items) {
  if (stopped_.load()) return;
  // Numbered (and stored) by the journal, handed back in seq order.
  if (!parts_->history.journal->append(symbol, std::move(items)))
    parts_->counters.events_dropped.fetch_add(1);
}

void EventRouter::hand_over(std::vector<Journal::Step> steps, bool wait) {
  bool post = false;
  {
    std::unique_lock lk(inbox_mu_);
    // A drain is posted whenever stored_ is not empty, and the strand runs while serving.
    if (wait) {
      stored_room_.wait(lk, [&] { return closed_ || stored_.size() < parts_->event_queue_size; });
    }
    if (stored_.empty()) {
      stored_ = std::move(steps);
    } else {
      stored_.insert(stored_.end(), std::make_move_iterator(steps.begin()),
                     std::make_move_iterator(steps.end()));
    }
    backlog_.store(stored_.size());
    post = !closed_ && !std::exchange(drain_posted_, true);
  }
  if (post) boost::asio::post(strand_, [self = shared_from_this()] { self->drain(); });
}

void EventRouter::close_hand_over() {
  {
    std::lock_guard lk(inbox_mu_);
    closed_ = true;
  }
  stored_room_.notify_all();
}

void EventRouter::run_left_over() {
  std::vector<Journal::Step> left;
  {
    std::lock_guard lk(inbox_mu_);
    left.swap(stored_);
    backlog_.store(0);
  }
  run_steps(parts_->bus, left);
}

void run_steps(Bus& bus, std::vector<Journal::Step>& steps) {
  // Consecutive messages of one symbol go as one burst: one walk of the room, and one lock
  // per subscriber instead of one per message. Bounded, so no subscriber's lock is held long.
  constexpr std::size_t kMaxBurst = 128;
  std::vector<MessagePtr> burst;
  const std::string* symbol = nullptr;
  const auto flush = [&] {
    if (!burst.empty()) bus.publish(*symbol, burst);
    burst.clear();
  };
  for (auto& step : steps) {
    if (auto* p = std::get_if<Journal::Publication>(&step)) {
      if (!burst.empty() && (p->symbol != *symbol || burst.size() == kMaxBurst)) flush();
      symbol = &p->symbol;
      burst.push_back(std::make_shared<const Message>(p->kind, p->symbol, std::move(p->frame)));
    } else {
      flush();
      std::get<std::function<void()>>(step)();
    }
  }
  flush();
}

void EventRouter::drain() {
  {
    std::lock_guard lk(inbox_mu_);
    draining_.swap(inbox_);
    draining_stored_.swap(stored_);
    backlog_.store(0);
    drain_posted_ = false;
  }
  stored_room_.notify_all();
  for (auto& item : draining_) {  // for every client: alerts, heartbeats
    if (stopped_.load()) continue;
    parts_->bus.publish_all(std::make_shared<const std::string>(std::move(item.body)), item.kind);
  }
  draining_.clear();
  run_steps(parts_->bus, draining_stored_);  // journaled: delivered even while stopping
  draining_stored_.clear();
}

}  // namespace gs
