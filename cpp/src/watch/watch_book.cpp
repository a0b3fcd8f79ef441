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

nlohmann::json PortfolioSpec::to_json() const {
  return {{"id", id},
          {"positions", positions},
          {"reference", reference},
          {"created", iso8601_ms(created_ms)}};
}

PortfolioSpec PortfolioSpec::from_json(const nlohmann::json& j) {
  try {
    PortfolioSpec s;
    s.id = j.at("id").get<std::string>();
    s.positions = j.at("positions").get<std::map<std::string, double>>();
    s.reference = j.value("reference", std::map<std::string, double>{});
    s.created_ms = parse_iso8601_ms(j.value("created", std::string())).value_or(0);
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("stored portfolio is not a portfolio: ") + e.what());
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
  auto seeded = seed_missing({spec.symbol});
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
    const bool fresh = !symbols_.contains(rule->spec.symbol);
    auto& w = symbols_[rule->spec.symbol];
    if (fresh && seeded.contains(rule->spec.symbol)) w.facts = seeded[rule->spec.symbol];
    if (ind) w.facts.indicators = *ind;
    w.rules.push_back(rule);
    mine.emplace(rule->spec.id, rule);
    ++total_;
    check(*rule, w.facts, firing);  // only the new rule: the others saw these facts already
  }
  send(firing);
}

std::map<std::string, Facts> WatchBook::seed_missing(const std::vector<std::string>& symbols) {
  std::vector<std::string> missing;
  {
    std::lock_guard lk(mu_);
    for (const auto& s : symbols) {
      if (!symbols_.contains(s)) missing.push_back(s);
    }
  }
  // Facts for symbols nobody watched yet (their room messages were not followed).
  std::map<std::string, Facts> out;
  if (seed_) {
    for (const auto& s : missing) out.emplace(s, seed_(s));
  }
  return out;
}

void WatchBook::send(std::vector<Firing>& firing) {
  for (auto& f : firing) {
    auto s = f.to.lock();
    if (!s) continue;
    // A portfolio_update is replaceable like a price: a newer one takes an unsent one's place
    // (the key, with a space, is never a symbol).
    s->send(f.replaces.empty()
                ? make_message(MessageKind::Reply, std::move(f.json))
                : make_message(MessageKind::PriceUpdate, std::move(f.json), f.replaces));
  }
}

void WatchBook::erase_if_unwatched(const std::string& symbol) {
  const auto it = symbols_.find(symbol);
  if (it != symbols_.end() && it->second.rules.empty() && it->second.portfolios.empty()) {
    symbols_.erase(it);
  }
}

void WatchBook::unlink(const std::shared_ptr<Rule>& r) {
  const auto it = symbols_.find(r->spec.symbol);
  if (it == symbols_.end()) return;
  auto& rules = it->second.rules;
  rules.erase(std::remove(rules.begin(), rules.end(), r), rules.end());
  erase_if_unwatched(r->spec.symbol);
  --total_;
}

void WatchBook::unlink(const std::shared_ptr<Portfolio>& pf) {
  for (const auto& [symbol, weight] : pf->spec.positions) {
    const auto it = symbols_.find(symbol);
    if (it == symbols_.end()) continue;
    auto& list = it->second.portfolios;
    list.erase(std::remove(list.begin(), list.end(), pf), list.end());
    erase_if_unwatched(symbol);
  }
}

PortfolioSpec WatchBook::add_portfolio(const void* owner, std::weak_ptr<Subscriber> to,
                                       PortfolioSpec spec) {
  std::vector<std::string> members;
  for (const auto& [symbol, weight] : spec.positions) members.push_back(symbol);
  auto seeded = seed_missing(members);
  auto pf = std::make_shared<Portfolio>(Portfolio{owner, std::move(to), std::move(spec)});
  std::vector<Firing> out;
  {
    std::lock_guard lk(mu_);
    auto& mine = books_[owner];
    if (const auto old = mine.find(pf->spec.id); old != mine.end()) {
      unlink(old->second);
      mine.erase(old);
    }
    for (const auto& symbol : members) {
      const bool fresh = !symbols_.contains(symbol);
      auto& w = symbols_[symbol];
      if (fresh && seeded.contains(symbol)) w.facts = seeded[symbol];
      w.portfolios.push_back(pf);
    }
    mine.emplace(pf->spec.id, pf);
    out.push_back(update(*pf, "subscribe"));
    spec = pf->spec;  // with the references update() took
  }
  send(out);
  return spec;
}

bool WatchBook::remove_portfolio(const void* owner, const std::string& id) {
  std::lock_guard lk(mu_);
  const auto o = books_.find(owner);
  if (o == books_.end()) return false;
  const auto it = o->second.find(id);
  if (it == o->second.end()) return false;
  unlink(it->second);
  o->second.erase(it);
  if (o->second.empty()) books_.erase(o);
  return true;
}

std::vector<PortfolioSpec> WatchBook::portfolios(const void* owner) const {
  std::lock_guard lk(mu_);
  std::vector<PortfolioSpec> out;
  if (const auto o = books_.find(owner); o != books_.end()) {
    for (const auto& [id, pf] : o->second) out.push_back(pf->spec);
  }
  return out;
}

bool WatchBook::has_portfolio(const void* owner, const std::string& id) const {
  std::lock_guard lk(mu_);
  const auto o = books_.find(owner);
  return o != books_.end() && o->second.contains(id);
}

std::size_t WatchBook::portfolio_count(const void* owner) const {
  std::lock_guard lk(mu_);
  const auto o = books_.find(owner);
  return o == books_.end() ? 0 : o->second.size();
}

std::size_t WatchBook::portfolio_updates() const {
  std::lock_guard lk(mu_);
  return updates_;
}

WatchBook::Firing WatchBook::update(Portfolio& pf, const std::string& trigger) {
  ++updates_;
  double value = 1.0;
  double signal = 0.0;
  std::size_t priced = 0;
  auto positions = nlohmann::json::object();
  auto conflicts = nlohmann::json::array();
  std::map<std::string, double> grown;  // weight x price / reference
  for (const auto& [symbol, weight] : pf.spec.positions) {
    const auto& f = symbols_.at(symbol).facts;
    auto& ref = pf.spec.reference;
    if (!ref.contains(symbol) && std::isfinite(f.price) && f.price > 0) ref[symbol] = f.price;
    const auto r = ref.find(symbol);
    const bool has_price = std::isfinite(f.price) && r != ref.end();
    const double ratio = has_price ? f.price / r->second : 1.0;
    priced += has_price ? 1 : 0;
    value += weight * (ratio - 1.0);
    grown[symbol] = weight * ratio;
    const double dir = f.action == "BUY" ? 1.0 : (f.action == "SELL" ? -1.0 : 0.0);
    const double conf = std::isfinite(f.confidence) ? f.confidence : 0.0;
    signal += weight * dir * conf;
    auto pos = nlohmann::json{{"weight", weight}};
    if (has_price) {
      pos["price"] = f.price;
      pos["reference_price"] = r->second;
    }
    if (std::isfinite(f.change_percent)) pos["change_percent"] = f.change_percent;
    if (!f.action.empty()) {
      pos["action"] = f.action;
      if (std::isfinite(f.confidence)) pos["confidence"] = f.confidence;
    }
    if (weight * dir < 0) {
      conflicts.push_back(
          {{"symbol", symbol}, {"weight", weight}, {"action", f.action}, {"confidence", conf}});
    }
    positions[symbol] = std::move(pos);
  }
  double longs = 0, shorts = 0;
  auto weights = nlohmann::json::object();
  for (const auto& [symbol, g] : grown) {
    const double w = value > 0 ? g / value : 0.0;
    weights[symbol] = w;
    positions[symbol]["current_weight"] = w;
    (w >= 0 ? longs : shorts) += w;
  }
  const auto now = now_ms();
  return Firing{pf.to,
                nlohmann::json{{"type", "portfolio_update"},
                               {"id", pf.spec.id},
                               {"trigger", trigger},
                               {"data",
                                {{"value", value},
                                 {"return", value - 1.0},
                                 {"weights", std::move(weights)},
                                 {"exposure",
                                  {{"long", longs},
                                   {"short", shorts},
                                   {"net", longs + shorts},
                                   {"gross", longs - shorts}}},
                                 {"weighted_signal", signal},
                                 {"conflicts", std::move(conflicts)},
                                 {"positions", std::move(positions)},
                                 {"priced", priced},
                                 {"size", pf.spec.positions.size()}}},
                               {"timestamp", iso8601_ms(now)}}
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                "portfolio " + pf.spec.id};
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

void WatchBook::remove_all_portfolios(const void* owner) {
  std::lock_guard lk(mu_);
  const auto o = books_.find(owner);
  if (o == books_.end()) return;
  for (const auto& [id, pf] : o->second) unlink(pf);
  books_.erase(o);
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
    for (const auto& pf : w.portfolios) firing.push_back(update(*pf, symbol));
  }
  send(firing);
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
