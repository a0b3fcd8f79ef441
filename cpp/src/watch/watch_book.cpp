#include "goldensignals/watch/watch_book.hpp"

#include <algorithm>
#include <cmath>

#include "goldensignals/core/clock.hpp"

namespace gs::watch {

namespace {

double number_or_nan(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : ind::kNaN;
}

const char* to_word(Truth t) {
  return t == Truth::True ? "true" : (t == Truth::False ? "false" : "unknown");
}

}  // namespace

nlohmann::json AlertSpec::to_json() const {
  return {{"id", id},
          {"symbol", symbol},
          {"condition", condition},
          {"severity", severity},
          {"cooldown", cooldown_s},
          {"created", iso8601_ms(created_ms)}};
}

AlertSpec AlertSpec::from_json(const nlohmann::json& j) {
  try {
    AlertSpec s;
    s.id = j.at("id").get<std::string>();
    s.symbol = j.at("symbol").get<std::string>();
    s.condition = j.at("condition").get<std::string>();
    s.severity = j.value("severity", std::string("warning"));
    s.cooldown_s = j.value("cooldown", 0.0);
    s.created_ms = parse_iso8601_ms(j.value("created", std::string())).value_or(0);
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("stored alert is not an alert: ") + e.what());
  }
}

void apply_price(Facts& f, const nlohmann::json& data) {
  f.price = number_or_nan(data, "price");
  f.volume = number_or_nan(data, "volume");
  f.change = number_or_nan(data, "change");
  f.change_percent = number_or_nan(data, "change_percent");
}

void apply_signal(Facts& f, const nlohmann::json& data) {
  const auto action = data.find("action");
  f.action = action != data.end() && action->is_string() ? action->get<std::string>() : "";
  f.confidence = number_or_nan(data, "confidence");
  f.votes.clear();
  const auto ac = data.find("agents_consensus");
  if (ac == data.end() || !ac->is_object()) return;
  const auto details = ac->find("agent_details");
  if (details == ac->end() || !details->is_object()) return;
  for (const auto& [name, d] : details->items()) {
    if (d.is_object() && d.contains("signal") && d["signal"].is_string()) {
      f.votes[name] = d["signal"].get<std::string>();
    }
  }
}

WatchBook::WatchBook(Seed seed, IndicatorsOf indicators)
    : seed_(std::move(seed)), indicators_(std::move(indicators)) {}

void WatchBook::add(const void* owner, std::weak_ptr<Subscriber> to, AlertSpec spec,
                    Condition condition, bool restored) {
  const bool watched = [&] {
    std::lock_guard lk(mu_);
    const auto it = symbols_.find(spec.symbol);
    return it != symbols_.end() && !it->second.rules.empty();
  }();
  // Facts for a symbol nobody watched yet (its room messages were not followed).
  std::optional<Facts> seeded;
  if (!watched && seed_) seeded = seed_(spec.symbol);
  const auto ind = indicators_ ? indicators_(spec.symbol) : std::nullopt;

  auto rule =
      std::make_shared<Rule>(Rule{owner, std::move(to), std::move(spec), std::move(condition)});
  rule->silent_first = restored;
  std::vector<Firing> firing;
  {
    std::lock_guard lk(mu_);
    auto& mine = owners_[owner];
    if (const auto old = mine.find(rule->spec.id); old != mine.end()) {
      unlink(old->second);
      mine.erase(old);
    }
    auto& w = symbols_[rule->spec.symbol];
    if (w.rules.empty() && seeded) w.facts = std::move(*seeded);
    if (ind) w.facts.indicators = *ind;
    w.rules.push_back(rule);
    mine.emplace(rule->spec.id, rule);
    ++total_;
    check(*rule, w.facts, firing);  // only the new rule: the others saw these facts already
  }
  for (auto& f : firing) {
    if (auto s = f.to.lock()) s->send(make_message(MessageKind::Reply, std::move(f.json)));
  }
}

void WatchBook::unlink(const std::shared_ptr<Rule>& r) {
  const auto it = symbols_.find(r->spec.symbol);
  if (it == symbols_.end()) return;
  auto& rules = it->second.rules;
  rules.erase(std::remove(rules.begin(), rules.end(), r), rules.end());
  if (rules.empty()) symbols_.erase(it);
  --total_;
}

bool WatchBook::remove(const void* owner, const std::string& id) {
  std::lock_guard lk(mu_);
  const auto o = owners_.find(owner);
  if (o == owners_.end()) return false;
  const auto it = o->second.find(id);
  if (it == o->second.end()) return false;
  unlink(it->second);
  o->second.erase(it);
  if (o->second.empty()) owners_.erase(o);
  return true;
}

void WatchBook::remove_all(const void* owner) {
  std::lock_guard lk(mu_);
  const auto o = owners_.find(owner);
  if (o == owners_.end()) return;
  for (const auto& [id, r] : o->second) unlink(r);
  owners_.erase(o);
}

std::vector<AlertView> WatchBook::alerts(const void* owner) const {
  std::lock_guard lk(mu_);
  std::vector<AlertView> out;
  const auto o = owners_.find(owner);
  if (o == owners_.end()) return out;
  for (const auto& [id, r] : o->second) {
    out.push_back(AlertView{r->spec, r->fired, r->last_fired_ms, to_word(r->last)});
  }
  return out;
}

std::size_t WatchBook::count(const void* owner) const {
  std::lock_guard lk(mu_);
  const auto o = owners_.find(owner);
  return o == owners_.end() ? 0 : o->second.size();
}

bool WatchBook::has(const void* owner, const std::string& id) const {
  std::lock_guard lk(mu_);
  const auto o = owners_.find(owner);
  return o != owners_.end() && o->second.contains(id);
}

std::size_t WatchBook::total() const {
  std::lock_guard lk(mu_);
  return total_;
}

std::uint64_t WatchBook::fired() const {
  std::lock_guard lk(mu_);
  return fired_;
}

void WatchBook::on_room_message(const std::string& symbol, MessageKind kind,
                                const std::string& json) {
  if (kind != MessageKind::PriceUpdate && kind != MessageKind::SignalUpdate) return;
  {
    std::lock_guard lk(mu_);
    if (!symbols_.contains(symbol)) return;
  }
  auto msg = nlohmann::json::parse(json, nullptr, false);
  if (msg.is_discarded() || !msg.contains("data") || !msg["data"].is_object()) return;
  const auto ind =
      kind == MessageKind::PriceUpdate && indicators_ ? indicators_(symbol) : std::nullopt;
  std::vector<Firing> firing;
  {
    std::lock_guard lk(mu_);
    const auto it = symbols_.find(symbol);
    if (it == symbols_.end()) return;
    auto& w = it->second;
    if (kind == MessageKind::PriceUpdate) {
      apply_price(w.facts, msg["data"]);
      if (ind) w.facts.indicators = *ind;
    } else {
      apply_signal(w.facts, msg["data"]);
    }
    evaluate(w, firing);
  }
  for (auto& f : firing) {
    if (auto s = f.to.lock()) s->send(make_message(MessageKind::Reply, std::move(f.json)));
  }
}

void WatchBook::evaluate(Watched& w, std::vector<Firing>& out) {
  for (const auto& r : w.rules) check(*r, w.facts, out);
}

void WatchBook::check(Rule& r, const Facts& facts, std::vector<Firing>& out) {
  const auto now = Clock::now();
  const auto t = r.condition.evaluate(facts);
  const bool rose = t == Truth::True && r.last != Truth::True;
  // A restored alert's first known value is taken silently.
  const bool silent = r.silent_first && t != Truth::Unknown;
  if (silent) r.silent_first = false;
  r.last = t;
  if (!rose || silent || now < r.quiet_until) return;
  ++r.fired;
  ++fired_;
  r.last_fired_ms = now_ms();
  r.quiet_until = now + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(r.spec.cooldown_s));
  const auto& s = r.spec;
  out.push_back(Firing{r.to, nlohmann::json{{"type", "alert"},
                                            {"alert_type", "custom"},
                                            {"severity", s.severity},
                                            {"code", "custom_alert"},
                                            {"id", s.id},
                                            {"symbol", s.symbol},
                                            {"condition", s.condition},
                                            {"values", r.condition.values(facts)},
                                            {"fired", r.fired},
                                            {"message", s.symbol + ": " + s.condition},
                                            {"timestamp", iso8601_ms(r.last_fired_ms)}}
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
}

}  // namespace gs::watch
