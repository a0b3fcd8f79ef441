#include "goldensignals/evaluation/scorer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs {

std::string_view to_string(ExitReason r) noexcept {
  switch (r) {
    case ExitReason::Horizon:
      return "horizon";
    case ExitReason::Target:
      return "target";
    case ExitReason::Stop:
      return "stop";
  }
  return "horizon";
}

void ScoringOptions::validate() const {
  if (horizon_bars < 0 || horizon_bars > 10'000) {
    throw InvalidArgument("GS_SCORE_HORIZON " + std::to_string(horizon_bars) +
                          " is not accepted; expected bars from 1 to 10000 (0: no scoring)");
  }
  if (!std::isfinite(cost_bps) || cost_bps < 0 || cost_bps > 10'000) {
    throw InvalidArgument("GS_SCORE_COST_BPS " + fmt_num(cost_bps) +
                          " is not accepted; expected basis points per side from 0 to 10000");
  }
  if (entry_delay_bars < 0 || entry_delay_bars > 10'000) {
    throw InvalidArgument("entry delay " + std::to_string(entry_delay_bars) +
                          " bars is not accepted; expected 0 to 10000");
  }
  if (window < 1 || window > 1'000'000) {
    throw InvalidArgument("scoring window " + std::to_string(window) +
                          " is not accepted; expected 1 to 1000000 forecasts");
  }
  if (!std::isfinite(weight_floor) || !std::isfinite(weight_cap) || weight_floor <= 0 ||
      weight_cap < 1 || weight_floor > 1 || weight_cap > 100) {
    throw InvalidArgument("adaptive weights: floor " + fmt_num(weight_floor) + " and cap " +
                          fmt_num(weight_cap) +
                          " are not accepted; expected 0 < floor <= 1 <= cap <= 100");
  }
  if (!std::isfinite(weight_gain) || weight_gain < 0 || weight_gain > 1000) {
    throw InvalidArgument("adaptive weights: gain " + fmt_num(weight_gain) +
                          " is not accepted; expected 0 to 1000");
  }
  if (min_scored < 1 || min_scored > 1'000'000) {
    throw InvalidArgument("adaptive weights: min_scored " + std::to_string(min_scored) +
                          " is not accepted; expected 1 to 1000000 scored forecasts");
  }
  if (max_open < 1 || max_open > 10'000'000) {
    throw InvalidArgument("max_open " + std::to_string(max_open) +
                          " is not accepted; expected 1 to 10000000 forecasts per symbol");
  }
}

struct Scorer::Open {
  ScoredForecast f;
  int wait = 0;  // bars still to let pass before the entry
  bool entered = false;
  bool exited = false;
  int bars = 0;         // bars since the entry, entry bar included
  bool closed = false;  // its horizon closed on the bar being applied (then it is dropped)
};

struct Scorer::SymbolBook {
  std::deque<Bar> recent;  // the last bars, for a decision that arrives after its next bar
  std::deque<Open> open;   // oldest first: with one horizon they mostly close from the front
  // Forward returns over the horizon of the last kDriftWindow bars (every bar, not only the
  // forecasts'), for the drift and spread an agent's skill is measured against.
  static constexpr std::size_t kDriftWindow = 250;
  std::deque<double> fwd;
  double fwd_sum = 0.0, fwd_sumsq = 0.0;
  void add_forward(double r) {
    fwd.push_back(r);
    fwd_sum += r;
    fwd_sumsq += r * r;
    if (fwd.size() > kDriftWindow) {
      fwd_sum -= fwd.front();
      fwd_sumsq -= fwd.front() * fwd.front();
      fwd.pop_front();
    }
  }
  // side * (r - drift) / sd, or NaN while fewer than 20 forward returns are known.
  [[nodiscard]] double excess(double side, double r) const {
    if (fwd.size() < 20) return std::nan("");
    const auto n = static_cast<double>(fwd.size());
    const double mean = fwd_sum / n;
    const double var = std::max(0.0, (fwd_sumsq - n * mean * mean) / (n - 1));
    if (var <= 0.0) return std::nan("");
    return side * (r - mean) / std::sqrt(var);
  }
};

struct Scorer::Record {
  std::uint64_t analyses = 0, forecasts = 0, scored = 0, hits = 0;
  double brier_sum = 0.0, net_sum = 0.0;
  std::size_t open = 0;
  struct Recent {
    bool hit;
    double brier;
    double net;
    double skill;  // NaN while the symbol's drift is unknown
  };
  std::deque<Recent> recent;  // the last `window` scores, and their sums below
  std::size_t recent_hits = 0, recent_skill_n = 0;
  double recent_brier = 0.0, recent_net = 0.0, recent_skill = 0.0;

  void push(const Recent& x, std::size_t window) {
    recent.push_back(x);
    recent_hits += x.hit ? 1 : 0;
    recent_brier += x.brier;
    recent_net += x.net;
    if (std::isfinite(x.skill)) {
      recent_skill += x.skill;
      ++recent_skill_n;
    }
    if (recent.size() <= window) return;
    const Recent& old = recent.front();
    recent_hits -= old.hit ? 1 : 0;
    recent_brier -= old.brier;
    recent_net -= old.net;
    if (std::isfinite(old.skill)) {
      recent_skill -= old.skill;
      --recent_skill_n;
    }
    recent.pop_front();
  }
  // Mean skill over the window (NaN without any).
  [[nodiscard]] double mean_skill() const {
    return recent_skill_n > 0 ? recent_skill / static_cast<double>(recent_skill_n) : std::nan("");
  }
};

Scorer::Scorer(ScoringOptions opts) : opts_(std::move(opts)) {
  opts_.validate();
  if (opts_.horizon_bars < 1) {
    throw InvalidArgument("Scorer: horizon_bars " + std::to_string(opts_.horizon_bars) +
                          " is not accepted; expected 1 to 10000 (0 turns scoring off before "
                          "a scorer is made)");
  }
}

Scorer::~Scorer() = default;

std::size_t Scorer::recent_bars() const noexcept {
  // Enough for a decision that arrives a few bars late to still enter on its own next bar.
  return static_cast<std::size_t>(opts_.horizon_bars + opts_.entry_delay_bars) + 16;
}

void Scorer::set_listener(std::function<void(const ScoredForecast&)> listener,
                          bool consensus_only) {
  std::lock_guard lk(mu_);
  listener_ = std::move(listener);
  listener_consensus_only_ = consensus_only;
}

bool Scorer::advance(Open& o, const Bar& bar, ScoredForecast& out) const {
  auto& f = o.f;
  if (bar.ts_ms <= f.decided_ts_ms) return false;  // made on this bar's data or later
  if (!o.entered) {
    if (o.wait > 0) {
      --o.wait;
      return false;
    }
    o.entered = true;
    f.entry_ts_ms = bar.ts_ms;
    f.entry_price = bar.open;
  }
  ++o.bars;
  const bool buy = f.action == Action::Buy;
  if (!o.exited && opts_.use_levels) {
    // Within a bar the path is unknown: when both levels are inside it, the stop counts.
    // A bar that opens beyond a level fills at its open.
    std::optional<double> fill;
    ExitReason why = ExitReason::Stop;
    if (f.stop_loss && (buy ? bar.low <= *f.stop_loss : bar.high >= *f.stop_loss)) {
      fill = buy ? std::min(bar.open, *f.stop_loss) : std::max(bar.open, *f.stop_loss);
    } else if (f.target_price && (buy ? bar.high >= *f.target_price : bar.low <= *f.target_price)) {
      fill = buy ? std::max(bar.open, *f.target_price) : std::min(bar.open, *f.target_price);
      why = ExitReason::Target;
    }
    if (fill) {
      o.exited = true;
      f.exit_price = *fill;
      f.exit_ts_ms = bar.ts_ms;
      f.exit_reason = why;
      f.bars_held = o.bars;
    }
  }
  if (o.bars < opts_.horizon_bars) return false;
  if (!o.exited) {
    f.exit_price = bar.close;
    f.exit_ts_ms = bar.ts_ms;
    f.exit_reason = ExitReason::Horizon;
    f.bars_held = o.bars;
  }
  const double side = buy ? 1.0 : -1.0;
  f.forward_return = bar.close / f.entry_price - 1.0;
  f.trade_return = side * (f.exit_price / f.entry_price - 1.0);
  f.net_return = f.trade_return - 2.0 * opts_.cost_bps / 1e4;
  f.hit = side * f.forward_return > 0.0;
  out = std::move(f);
  return true;
}

Scorer::Record& Scorer::record_of(bool consensus, std::string_view name) {
  auto it = records_.find(std::pair<bool, std::string_view>(consensus, name));
  if (it == records_.end())
    it = records_.emplace(Key(consensus, std::string(name)), Record{}).first;
  return it->second;
}

void Scorer::record(const ScoredForecast& f, const SymbolBook& book) {
  auto& r = record_of(f.consensus, f.source);
  const double miss = f.confidence - (f.hit ? 1.0 : 0.0);
  const double brier = miss * miss;
  ++r.scored;
  r.hits += f.hit ? 1 : 0;
  r.brier_sum += brier;
  r.net_sum += f.net_return;
  if (r.open > 0) --r.open;
  const double side = f.action == Action::Buy ? 1.0 : -1.0;
  r.push({f.hit, brier, f.net_return, book.excess(side, f.forward_return)}, opts_.window);
}

std::vector<ScoredForecast> Scorer::settle(std::vector<ScoredForecast>& done,
                                           const SymbolBook& book) {
  std::vector<ScoredForecast> heard;
  for (auto& f : done) {
    record(f, book);
    const bool hears = listener_ && (f.consensus || !listener_consensus_only_);
    if (kept_.size() < opts_.keep) {
      if (hears) heard.push_back(f);
      kept_.push_back(std::move(f));
      continue;
    }
    if (opts_.keep > 0) ++not_kept_;
    if (hears) heard.push_back(std::move(f));
  }
  return heard;
}

void Scorer::on_bar(const std::string& symbol, const Bar& bar) {
  std::vector<ScoredForecast> done, heard;
  std::function<void(const ScoredForecast&)> listener;
  {
    std::lock_guard lk(mu_);
    auto& book = books_[symbol];
    // Two publishers of one symbol may hand bars over out of order: an older bar than the
    // last is ignored, never scored against.
    if (!book.recent.empty() && bar.ts_ms <= book.recent.back().ts_ms) return;
    book.recent.push_back(bar);
    while (book.recent.size() > recent_bars()) book.recent.pop_front();
    const auto h = static_cast<std::size_t>(opts_.horizon_bars);
    if (book.recent.size() > h) {  // the bar h bars ago: its forward return is known now
      book.add_forward(bar.close / book.recent[book.recent.size() - h].open - 1.0);
    }
    // Advance every open forecast and keep those still open, in order. Those that closed
    // are usually the oldest, a run at the front, which is dropped without moving the rest.
    ScoredForecast out;
    std::size_t leading = 0;  // closed forecasts at the front
    for (std::size_t i = 0; i < book.open.size(); ++i) {
      auto& o = book.open[i];
      if ((o.closed = advance(o, bar, out))) {
        done.push_back(std::move(out));
        if (leading == i) ++leading;
      }
    }
    book.open.erase(book.open.begin(), book.open.begin() + static_cast<std::ptrdiff_t>(leading));
    if (leading != done.size()) {  // others closed too: compact them out
      book.open.erase(std::remove_if(book.open.begin(), book.open.end(),
                                     [](const Open& o) { return o.closed; }),
                      book.open.end());
    }
    heard = settle(done, book);
    if (!heard.empty()) listener = listener_;
  }
  for (const auto& f : heard) listener(f);
}

void Scorer::on_decision(const Decision& d) {
  if (d.symbol.empty()) return;  // a follow-up that never ran
  std::vector<Open> made;
  made.reserve(d.ballots.size() + 1);
  auto forecast = [&](std::string source, bool consensus, Action a, double confidence,
                      std::optional<double> target, std::optional<double> stop) {
    Open o;
    o.wait = opts_.entry_delay_bars;
    auto& f = o.f;
    f.symbol = d.symbol;
    f.source = std::move(source);
    f.consensus = consensus;
    f.analysis_id = d.analysis_id;
    f.action = a;
    f.confidence = confidence;
    f.decided_ts_ms = d.market_ts_ms;
    f.decided_price = d.price;
    f.target_price = target;
    f.stop_loss = stop;
    made.push_back(std::move(o));
  };
  const auto& c = d.consensus;
  if (c.action && *c.action != Action::Hold) {
    forecast("consensus", true, *c.action, c.confidence, c.target_price, c.stop_loss);
    auto& f = made.back().f;
    f.signal_id = d.signal_id;
    for (const auto& b : d.ballots) {
      std::string vote;
      if (b.status == AgentStatus::Ok && b.vote) {
        vote = std::string(to_string(b.vote->action));
      } else {
        vote = std::string(to_string(b.status));
        std::transform(vote.begin(), vote.end(), vote.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
      }
      f.ballots.push_back({b.agent, std::move(vote), b.vote ? b.vote->confidence : 0.0});
    }
  }
  for (const auto& b : d.ballots) {
    if (b.status == AgentStatus::Ok && b.vote && b.vote->action != Action::Hold) {
      forecast(b.agent, false, b.vote->action, b.vote->confidence, b.vote->target_price,
               b.vote->stop_loss);
    }
  }

  std::vector<ScoredForecast> done, heard;
  std::function<void(const ScoredForecast&)> listener;
  {
    std::lock_guard lk(mu_);
    if (d.market_ts_ms >= opts_.analyses_from_ms) {
      ++record_of(true, "consensus").analyses;
      for (const auto& b : d.ballots) {
        if (b.status != AgentStatus::Disabled) ++record_of(false, b.agent).analyses;
      }
    }
    auto& book = books_[d.symbol];
    // Bars that arrived before this decision did (the decision is delivered after the
    // orchestrator lets the next bar in) are applied now, in order.
    const bool lost =
        book.recent.size() >= recent_bars() && book.recent.front().ts_ms > d.market_ts_ms;
    for (auto& o : made) {
      auto& r = record_of(o.f.consensus, o.f.source);
      ++r.forecasts;
      if (lost || book.open.size() >= opts_.max_open) {
        ++dropped_;
        continue;
      }
      ++r.open;
      ScoredForecast out;
      bool closed = false;
      // Only bars after the decision's data count: start at the first of them (usually none).
      auto bar = std::upper_bound(book.recent.begin(), book.recent.end(), d.market_ts_ms,
                                  [](std::int64_t ts, const Bar& b) { return ts < b.ts_ms; });
      for (; bar != book.recent.end() && !closed; ++bar) closed = advance(o, *bar, out);
      if (closed) {
        done.push_back(std::move(out));
      } else {
        book.open.push_back(std::move(o));
      }
    }
    heard = settle(done, book);
    if (!heard.empty()) listener = listener_;
  }
  for (const auto& f : heard) listener(f);
}

std::vector<ScoredForecast> Scorer::take_scored() {
  std::lock_guard lk(mu_);
  std::vector<ScoredForecast> out;
  out.swap(kept_);
  return out;
}

std::uint64_t Scorer::dropped() const {
  std::lock_guard lk(mu_);
  return dropped_;
}

std::uint64_t Scorer::not_kept() const {
  std::lock_guard lk(mu_);
  return not_kept_;
}

std::vector<SourceScore> Scorer::scores() const {
  std::lock_guard lk(mu_);
  std::vector<SourceScore> out;
  for (const auto& [key, r] : records_) {
    SourceScore s;
    s.consensus = key.first;
    s.name = key.second;
    s.analyses = r.analyses;
    s.forecasts = r.forecasts;
    s.scored = r.scored;
    s.hits = r.hits;
    s.brier_sum = r.brier_sum;
    s.net_return_sum = r.net_sum;
    s.open = r.open;
    s.recent = r.recent.size();
    s.recent_skill_n = r.recent_skill_n;
    if (s.recent_skill_n > 0) s.recent_skill = r.mean_skill();
    if (s.recent > 0) {
      const auto n = static_cast<double>(s.recent);
      s.recent_hit_rate = static_cast<double>(r.recent_hits) / n;
      s.recent_brier = r.recent_brier / n;
      s.recent_net_return = r.recent_net / n;
    }
    out.push_back(std::move(s));
  }
  return out;
}

double Scorer::weight_multiplier(const std::string& agent, std::string* why) const {
  if (!opts_.adaptive_weights) return 1.0;
  std::size_t n = 0;
  double skill = 0.0;
  {
    std::lock_guard lk(mu_);
    auto it = records_.find({false, agent});
    if (it == records_.end()) return 1.0;
    n = it->second.recent_skill_n;
    skill = it->second.mean_skill();
  }
  if (n < opts_.min_scored || !std::isfinite(skill)) return 1.0;
  const double m =
      std::clamp(std::exp(opts_.weight_gain * skill), opts_.weight_floor, opts_.weight_cap);
  if (why) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s weight x%.2f (skill %+.2f sd over its last %zu scored)",
                  agent.c_str(), m, skill, n);
    *why = buf;
  }
  return m;
}

namespace {

nlohmann::json source_json(const SourceScore& s) {
  auto rate = [](double sum, std::uint64_t n) -> nlohmann::json {
    if (n == 0) return nullptr;
    return sum / static_cast<double>(n);
  };
  auto recent = [&](double v) -> nlohmann::json {
    if (s.recent == 0) return nullptr;
    return v;
  };
  return {
      {"name", s.name},
      {"analyses", s.analyses},
      {"forecasts", s.forecasts},
      {"scored", s.scored},
      {"open", s.open},
      {"hit_rate", rate(static_cast<double>(s.hits), s.scored)},
      {"brier", rate(s.brier_sum, s.scored)},
      {"mean_net_return", rate(s.net_return_sum, s.scored)},
      {"recent", s.recent},
      {"recent_hit_rate", recent(s.recent_hit_rate)},
      {"recent_brier", recent(s.recent_brier)},
      {"recent_net_return", recent(s.recent_net_return)},
      {"recent_skill", s.recent_skill_n > 0 ? nlohmann::json(s.recent_skill) : nlohmann::json()}};
}

}  // namespace

nlohmann::json outcome_json(const ScoredForecast& f, int horizon_bars) {
  nlohmann::json j = {{"symbol", f.symbol},
                      {"signal_id", f.signal_id},
                      {"analysis_id", f.analysis_id},
                      {"action", std::string(to_string(f.action))},
                      {"confidence", f.confidence},
                      {"horizon_bars", horizon_bars},
                      {"market_time", iso8601_ms(f.decided_ts_ms)},
                      {"entry_time", iso8601_ms(f.entry_ts_ms)},
                      {"entry_price", f.entry_price},
                      {"exit_time", iso8601_ms(f.exit_ts_ms)},
                      {"exit_price", f.exit_price},
                      {"exit_reason", std::string(to_string(f.exit_reason))},
                      {"return", f.net_return},
                      {"gross_return", f.trade_return},
                      {"forward_return", f.forward_return},
                      {"hit", f.hit},
                      {"timestamp", iso8601_ms(now_ms())}};
  return j;
}

nlohmann::json scores_json(const Scorer& s) {
  const auto& o = s.options();
  nlohmann::json out = {{"horizon_bars", o.horizon_bars},
                        {"cost_bps", o.cost_bps},
                        {"window", o.window},
                        {"dropped", s.dropped()},
                        {"consensus", nullptr},
                        {"agents", nlohmann::json::array()}};
  for (const auto& src : s.scores()) {
    if (src.consensus) {
      out["consensus"] = source_json(src);
    } else {
      out["agents"].push_back(source_json(src));
    }
  }
  return out;
}

}  // namespace gs
