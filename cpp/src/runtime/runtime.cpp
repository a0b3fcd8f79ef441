#include "goldensignals/runtime/runtime.hpp"

#include <cmath>
#include <optional>
#include <set>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/thread_name.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/runtime/fanout_sink.hpp"

namespace gs {

struct Runtime::Symbol {
  Symbol(std::string name, std::size_t history, std::int64_t bar_ms)
      : market(std::move(name), history, bar_ms) {}
  mutable std::mutex mu;  // guards everything below; never held across a call out
  MarketState market;
  double ref_price = 0.0;             // price at the last analysis trigger
  std::int64_t last_analysis_ts = 0;  // market time of the last analysis trigger
  bool seen = false;                  // any data yet
  bool analyzed = false;              // any analysis triggered yet
};

// The feed talks to the runtime through this, so feeds never see the runtime's insides.
class Runtime::FeedBridge final : public FeedSink {
 public:
  explicit FeedBridge(Runtime& rt) : rt_(rt) {}
  void on_bar(const std::string& symbol, const Bar& bar, bool live) override {
    try {
      rt_.ingest(rt_.lookup(symbol), &bar, bar.close, bar.volume, bar.ts_ms, live);
    } catch (const InvalidArgument& e) {
      on_feed_problem("bad_market_data", e.what());
    }
  }
  void wait_idle(const std::string& symbol) override { rt_.wait_idle(symbol); }
  void on_history_done() override {
    rt_.analyze_backfilled();
    rt_.history_in();
  }
  void on_feed_problem(const std::string& code, const std::string& message) override {
    rt_.sink_->on_alert(Alert{AlertType::System, Severity::Warning, code, message, now_ms()});
    rt_.log(30, "feed: " + message);
  }

 private:
  Runtime& rt_;
};

namespace {

// Hands decisions to the scorer (bars come straight from ingest()).
class ScoringSink final : public RuntimeSink {
 public:
  explicit ScoringSink(std::shared_ptr<Scorer> s) : scorer_(std::move(s)) {}
  void on_agent_update(const AgentUpdate&) override {}
  void on_decision(const DecisionPtr& d) override { scorer_->on_decision(*d); }
  void on_alert(const Alert&) override {}
  void on_price_update(const PriceUpdate&) override {}
  void on_log(int, const std::string&, const std::string&) override {}
  [[nodiscard]] int log_level() const override { return 100; }

 private:
  std::shared_ptr<Scorer> scorer_;
};

}  // namespace

std::string_view to_string(RuntimeState s) noexcept {
  switch (s) {
    case RuntimeState::Created:
      return "created";
    case RuntimeState::Starting:
      return "starting";
    case RuntimeState::Running:
      return "running";
    case RuntimeState::Stopping:
      return "stopping";
    case RuntimeState::Stopped:
      return "stopped";
    case RuntimeState::Faulted:
      return "faulted";
  }
  return "faulted";
}

void RuntimeOptions::validate() const {
  policy.validate();
  if (!std::isfinite(signal_generation_interval_s) || signal_generation_interval_s <= 0 ||
      signal_generation_interval_s > 86400.0 * 366) {
    throw InvalidArgument("SIGNAL_GENERATION_INTERVAL " + fmt_num(signal_generation_interval_s) +
                          " is not accepted; expected seconds > 0 (at most a year)");
  }
  if (!std::isfinite(move_threshold) || move_threshold <= 0 || move_threshold > 1) {
    throw InvalidArgument("move_threshold " + fmt_num(move_threshold) +
                          " is not accepted; expected a fraction in (0, 1], e.g. 0.01 for 1%");
  }
  if (!std::isfinite(bar_seconds) || bar_seconds < 0 || bar_seconds > 86400) {
    throw InvalidArgument(
        "bar_seconds " + fmt_num(bar_seconds) +
        " is not accepted; expected seconds in [0, 86400] (0: ticks form no bars)");
  }
  if (history_bars < 2 || history_bars > 1'000'000) {
    throw InvalidArgument("history_bars " + std::to_string(history_bars) +
                          " is not accepted; expected 2 to 1000000");
  }
  scoring.validate();
  if (symbols.size() > 10'000) {
    throw InvalidArgument("symbols: " + std::to_string(symbols.size()) +
                          " given; at most 10000 are accepted");
  }
}

Runtime::Runtime(RuntimeOptions opts, std::shared_ptr<RuntimeSink> sink)
    : opts_(std::move(opts)), sink_(std::make_shared<FanoutSink>()) {
  if (!sink) throw InvalidArgument("Runtime: sink is null");
  sink_->add(std::move(sink));
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& s : opts_.symbols) {
    auto n = normalize_symbol(s);
    if (seen.insert(n).second) names.push_back(n);
  }
  opts_.symbols = names;
  opts_.validate();
  opts_.orchestrator.driven = opts_.synchronous;
  const auto bar_ms = static_cast<std::int64_t>(std::llround(opts_.bar_seconds * 1000.0));
  for (const auto& n : names) symbols_[n] = std::make_unique<Symbol>(n, opts_.history_bars, bar_ms);
  if (opts_.scoring.horizon_bars > 0) {
    scorer_ = std::make_shared<Scorer>(opts_.scoring);
    sink_->add(std::make_shared<ScoringSink>(scorer_));
    // The consensus's results reach every listener (the server stores and broadcasts them).
    // Weakly: the fan-out holds the scorer (through its sink), so a strong hold is a cycle.
    scorer_->set_listener(
        [weak = std::weak_ptr<FanoutSink>(sink_)](const ScoredForecast& f) {
          auto fanout = weak.lock();
          if (!fanout) return;
          try {
            fanout->on_signal_outcome(f);
          } catch (const std::exception& e) {  // a listener's failure must not stop the data
            fanout->on_log(40, "goldensignals.runtime",
                           "signal_outcome of " + f.signal_id + " not delivered: " + e.what());
          }
        },
        /*consensus_only=*/true);
  }
  orch_ = std::make_unique<Orchestrator>(
      opts_.orchestrator, opts_.policy,
      [this](const std::string& symbol) -> SnapshotPtr {
        auto& s = lookup(symbol);
        std::lock_guard lk(s.mu);
        if (!s.seen) return nullptr;
        return s.market.snapshot();
      },
      sink_);
  if (scorer_ && opts_.scoring.adaptive_weights) {
    // Each agent's weight follows its track record (the scorer's), bounded by floor and cap.
    orch_->set_weight_advisor([s = scorer_](std::vector<Ballot>& ballots) {
      std::vector<std::string> why;
      for (auto& b : ballots) {
        std::string line;
        const double m = s->weight_multiplier(b.agent, &line);
        if (m != 1.0) {
          b.weight *= m;
          why.push_back(std::move(line));
        }
      }
      return why;
    });
  }
}

Runtime::~Runtime() { stop(); }

void Runtime::set_feed(std::unique_ptr<Feed> feed) {
  std::lock_guard lk(lifecycle_mu_);
  if (state_.load() != RuntimeState::Created) {
    throw StateError("set_feed: the runtime is " + std::string(to_string(state_.load())) +
                     "; a feed can only be set before start()");
  }
  feed_ = std::move(feed);
}

std::string Runtime::feed_description() const { return feed_ ? feed_->describe() : "none"; }

Runtime::Symbol& Runtime::lookup(const std::string& symbol) const {
  const auto& key = is_valid_symbol(symbol) ? symbol : normalize_symbol(symbol);
  auto it = symbols_.find(key);
  if (it == symbols_.end()) {
    std::string known;
    for (const auto& [n, _] : symbols_) known += (known.empty() ? "" : ", ") + n;
    throw UnknownSymbol("symbol '" + symbol + "' is not tracked by this runtime; tracked: " +
                        (known.empty() ? "(none)" : known));
  }
  return *it->second;
}

const std::vector<std::string>& Runtime::symbols() const { return opts_.symbols; }

void Runtime::add_sink(std::shared_ptr<RuntimeSink> sink) {
  if (!sink) throw InvalidArgument("add_sink: sink is null");
  sink_->add(std::move(sink));
}

void Runtime::remove_sink(const RuntimeSink* sink) { sink_->remove(sink); }

SnapshotPtr Runtime::snapshot(const std::string& symbol) const {
  auto& s = lookup(symbol);
  std::lock_guard lk(s.mu);
  return s.seen ? s.market.snapshot() : nullptr;
}

std::optional<ind::IndicatorValues> Runtime::indicators(const std::string& symbol) const {
  auto& s = lookup(symbol);
  std::lock_guard lk(s.mu);
  if (!s.seen) return std::nullopt;
  return s.market.indicators();
}

void Runtime::start() {
  bool wait_for_history = false;
  {
    std::lock_guard lk(lifecycle_mu_);
    if (state_.load() != RuntimeState::Created) {
      throw StateError("start: the runtime is " + std::string(to_string(state_.load())) +
                       "; a runtime starts once");
    }
    // Running before the feed starts, so its first bars can already trigger analyses.
    state_ = RuntimeState::Running;
    std::string feed = "none";
    if (feed_) {
      feed = feed_->describe();
      bridge_ = std::make_unique<FeedBridge>(*this);
      try {
        feed_->bind(opts_.symbols);
      } catch (...) {
        state_ = RuntimeState::Faulted;
        throw;
      }
      if (opts_.synchronous) {
        // run_feed() runs the feed on the caller's thread.
        log(20, "runtime started (synchronous): " + std::to_string(opts_.symbols.size()) +
                    " symbols, " + std::to_string(orch_->agents().size()) + " agents, feed " +
                    feed);
        return;
      }
      wait_for_history = feed_->backfills();
      // The feed runs on its own thread: history first, then the initial analyses, then live
      // data. However it ends, start() stops waiting for the history.
      feed_thread_ = std::jthread([this](std::stop_token st) {
        name_this_thread("gs-feed");
        try {
          feed_->run(*bridge_, st);
        } catch (const std::exception& e) {
          bridge_->on_feed_problem("feed_failed", std::string("feed stopped: ") + e.what());
        }
        {
          std::lock_guard hl(history_mu_);
          feed_done_ = true;
        }
        history_in();
      });
    }
    log(20, "runtime started: " + std::to_string(opts_.symbols.size()) + " symbols, " +
                std::to_string(orch_->agents().size()) + " agents, feed " + feed);
  }
  // Outside the lifecycle lock, so stop() from another thread can end the wait (the feed
  // thread then ends and calls history_in()).
  if (wait_for_history) {
    std::unique_lock lk(history_mu_);
    history_cv_.wait(lk, [this] { return history_in_; });
  }
}

void Runtime::history_in() {
  {
    std::lock_guard lk(history_mu_);
    history_in_ = true;
  }
  history_cv_.notify_all();
}

namespace {

// Passes a synchronous run's bars on, and asks the caller now and then whether to go on.
class ProgressSink final : public FeedSink {
 public:
  ProgressSink(FeedSink& inner, const std::function<bool(std::uint64_t)>& progress,
               const std::atomic<std::uint64_t>& bars, std::stop_source& stop)
      : inner_(inner), progress_(progress), bars_(bars), stop_(stop) {}
  void on_bar(const std::string& symbol, const Bar& bar, bool live) override {
    inner_.on_bar(symbol, bar, live);
    if (!progress_ || ++since_ < 256) return;
    since_ = 0;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    if (!progress_(bars_.load(std::memory_order_relaxed))) stop_.request_stop();
  }
  void on_history_done() override { inner_.on_history_done(); }
  void wait_idle(const std::string& symbol) override { inner_.wait_idle(symbol); }
  void on_feed_problem(const std::string& code, const std::string& message) override {
    inner_.on_feed_problem(code, message);
  }

 private:
  FeedSink& inner_;
  const std::function<bool(std::uint64_t)>& progress_;
  const std::atomic<std::uint64_t>& bars_;
  std::stop_source& stop_;
  unsigned since_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

bool Runtime::run_feed(const std::function<bool(std::uint64_t)>& progress) {
  {
    std::lock_guard lk(lifecycle_mu_);
    if (!opts_.synchronous) {
      throw StateError("run_feed: the runtime is not synchronous; its feed runs on its own thread");
    }
    if (state_.load() != RuntimeState::Running || !feed_) {
      throw StateError("run_feed: the runtime is " + std::string(to_string(state_.load())) +
                       (feed_ ? "" : " and has no feed") + "; expected a started runtime with one");
    }
    if (feed_running_) throw StateError("run_feed: the feed already ran or is running");
    feed_running_ = true;
  }
  ProgressSink sink(*bridge_, progress, bars_ingested_, inline_stop_);
  try {
    feed_->run(sink, inline_stop_.get_token());
  } catch (const std::exception& e) {
    bridge_->on_feed_problem("feed_failed", std::string("feed stopped: ") + e.what());
  }
  const bool complete = !inline_stop_.stop_requested();
  if (complete) {
    std::lock_guard hl(history_mu_);
    feed_done_ = true;
  }
  history_in();
  return complete;
}

bool Runtime::wait_feed(std::chrono::milliseconds timeout) {
  std::unique_lock lk(history_mu_);
  history_cv_.wait_for(lk, timeout, [this] {
    const auto st = state_.load();
    return feed_done_ || st == RuntimeState::Stopping || st == RuntimeState::Stopped;
  });
  return feed_done_;
}

void Runtime::stop() {
  std::lock_guard lk(lifecycle_mu_);
  const auto st = state_.load();
  if (st == RuntimeState::Stopped || st == RuntimeState::Stopping) return;
  state_ = RuntimeState::Stopping;
  inline_stop_.request_stop();  // a synchronous run_feed() on another thread ends its loop
  if (feed_thread_.joinable()) {
    feed_thread_.request_stop();
    feed_thread_.join();
  }
  orch_->stop();
  state_ = RuntimeState::Stopped;
  if (st != RuntimeState::Created) log(20, "runtime stopped");
}

void Runtime::publish_tick(const std::string& symbol, double price, double volume,
                           std::int64_t ts_ms) {
  ingest(lookup(symbol), nullptr, price, volume, ts_ms, true);
}

void Runtime::publish_bar(const std::string& symbol, const Bar& bar) {
  ingest(lookup(symbol), &bar, bar.close, bar.volume, bar.ts_ms, true);
}

void Runtime::ingest(Symbol& s, const Bar* bar, double price, double volume, std::int64_t ts_ms,
                     bool live) {
  std::optional<Trigger> why;
  PriceUpdate pu;
  std::optional<Bar> completed;  // for the scorer: a bar given, or one that ticks completed
  {
    std::lock_guard lk(s.mu);
    const double ref = s.market.last_close() > 0 ? s.market.last_close() : price;
    const auto bars_before = s.market.bars_seen();
    if (bar) {
      s.market.on_bar(*bar);
    } else {
      s.market.on_tick(price, volume, ts_ms);
    }
    if (s.market.bars_seen() != bars_before) {
      bars_ingested_.fetch_add(1, std::memory_order_relaxed);
      if (scorer_ && live) completed = s.market.last_bar();
    }
    const bool first = !s.seen;
    s.seen = true;
    if (first || !live) {  // history moves the reference; only live data triggers
      s.ref_price = price;
      s.last_analysis_ts = ts_ms;
    }
    if (!live) return;
    pu.symbol = s.market.symbol();
    pu.price = price;
    pu.volume = volume;
    pu.change = price - ref;  // against the last completed bar's close
    pu.change_percent = 100.0 * pu.change / ref;
    pu.ts_ms = ts_ms;
    const bool running = state_.load() == RuntimeState::Running;
    if (running && std::abs(price / s.ref_price - 1.0) >= opts_.move_threshold) {
      why = Trigger::Move;
    } else if (running && static_cast<double>(ts_ms - s.last_analysis_ts) >=
                              opts_.signal_generation_interval_s * 1000.0) {
      why = Trigger::Interval;
    } else if (running && !s.analyzed && opts_.analyze_on_start) {
      why = Trigger::Initial;
    }
    if (why) {
      s.analyzed = true;
      s.ref_price = price;
      s.last_analysis_ts = ts_ms;
    }
  }
  if (completed) scorer_->on_bar(pu.symbol, *completed);
  sink_->on_price_update(pu);
  if (why) trigger(pu.symbol, *why);
}

void Runtime::analyze_backfilled() {
  if (!opts_.analyze_on_start || state_.load() != RuntimeState::Running) return;
  for (auto& [name, sp] : symbols_) {
    auto& s = *sp;
    {
      std::lock_guard lk(s.mu);
      if (!s.seen || s.analyzed) continue;
      s.analyzed = true;
      s.ref_price = s.market.price();
      s.last_analysis_ts = s.market.last_ts_ms();
    }
    trigger(name, Trigger::Initial);
  }
}

void Runtime::set_analysis_filter(std::function<bool(const std::string& symbol)> filter) {
  auto f = filter
               ? std::make_shared<const std::function<bool(const std::string&)>>(std::move(filter))
               : nullptr;
  std::lock_guard lk(filter_mu_);
  filter_ = std::move(f);
}

bool Runtime::may_analyze(const std::string& symbol) const {
  std::shared_ptr<const std::function<bool(const std::string&)>> f;
  {
    std::lock_guard lk(filter_mu_);
    f = filter_;
  }
  return !f || (*f)(symbol);
}

void Runtime::trigger(const std::string& symbol, Trigger why) {
  if (!may_analyze(symbol)) return;  // another node analyzes it
  try {
    orch_->request(symbol, why);
    if (logs(10)) log(10, "analysis of " + symbol + " triggered by " + std::string(to_string(why)));
  } catch (const StateError&) {
    // Stopping: no new analyses; the data is already recorded.
  }
}

std::shared_future<DecisionPtr> Runtime::analyze(const std::string& symbol) {
  if (state_.load() != RuntimeState::Running) {
    throw StateError("analyze: the runtime is " + std::string(to_string(state_.load())) +
                     "; call start() first");
  }
  auto& s = lookup(symbol);
  if (!may_analyze(s.market.symbol())) {
    throw StateError("analyze: " + s.market.symbol() +
                     " is analyzed by another node (this one does not own it now)");
  }
  {
    std::lock_guard lk(s.mu);
    if (s.seen) {
      s.ref_price = s.market.price();
      s.last_analysis_ts = s.market.last_ts_ms();
    }
  }
  return orch_->request(s.market.symbol(), Trigger::Manual);
}

void Runtime::wait_idle(const std::string& symbol) {
  orch_->wait_idle(lookup(symbol).market.symbol());
}

bool Runtime::logs(int level) const { return level >= sink_->log_level(); }

void Runtime::log(int level, const std::string& logger, const std::string& message) {
  if (logs(level)) sink_->on_log(level, logger, message);
}

void Runtime::log(int level, const std::string& msg) { log(level, "goldensignals.runtime", msg); }

}  // namespace gs
