#include "goldensignals/orchestrator/orchestrator.hpp"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <condition_variable>
#include <utility>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/thread_name.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/orchestrator/circuit_breaker.hpp"

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace gs {

// Lets callbacks that outlive the orchestrator (a stuck Python agent returning late) find
// out, under a lock, that there is nobody left to tell.
struct Orchestrator::Io {
  using Guard = asio::executor_work_guard<asio::io_context::executor_type>;
  asio::io_context compute;    // native agents, results, consensus
  asio::io_context timers{1};  // deadlines only: never blocked by an agent
  Guard compute_guard{compute.get_executor()};
  Guard timer_guard{timers.get_executor()};
};

struct Orchestrator::Gate {
  std::mutex mu;
  asio::io_context* compute = nullptr;
};

struct Orchestrator::Entry {
  Entry(AgentPtr a, const OrchestratorOptions& o)
      : agent(std::move(a)), breaker(o.breaker_faults, o.breaker_cooldown) {}
  AgentPtr agent;
  std::mutex mu;  // guards everything below
  LatencyHistogram hist;
  std::uint64_t calls = 0, votes = 0, abstentions = 0, timeouts = 0, errors = 0, late = 0;
  CircuitBreaker breaker;
};

struct Orchestrator::SymbolSlot {
  std::string symbol;
  std::mutex mu;  // guards everything below
  bool in_flight = false;
  std::shared_future<DecisionPtr> current;
  bool follow_up = false;
  Trigger follow_trigger = Trigger::Manual;
  std::shared_ptr<std::promise<DecisionPtr>> follow_promise;
  std::shared_future<DecisionPtr> follow_future;
};

struct Orchestrator::Analysis {
  std::string id, symbol;
  Trigger trigger = Trigger::Manual;
  std::shared_ptr<SymbolSlot> slot;
  std::shared_ptr<const AgentContext> ctx;
  std::shared_ptr<std::promise<DecisionPtr>> promise;
  Clock::time_point started;
  std::mutex mu;  // guards everything below
  std::vector<std::shared_ptr<Entry>> entries;
  std::vector<Ballot> ballots;
  std::vector<bool> settled;
  std::vector<Clock::time_point> deadlines;
  std::vector<Clock::time_point> answered;  // when each agent's answer arrived (max: not yet)
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::size_t remaining = 0;
};

namespace {

thread_local bool tl_driving = false;  // this thread is in Orchestrator::drive()

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

AgentUpdate make_update(const std::string& symbol, const std::string& analysis_id,
                        const Ballot& b) {
  AgentUpdate u;
  u.symbol = symbol;
  u.analysis_id = analysis_id;
  u.agent = b.agent;
  u.latency_ms = b.latency_ms;
  u.ts_ms = now_ms();
  u.signal = agent_signal(b);
  if (b.status == AgentStatus::Ok && b.vote) {
    u.confidence = b.vote->confidence;
    u.reasoning = b.vote->reasoning;
  } else if (b.status != AgentStatus::Abstain) {  // why: timeout, failure, breaker
    u.reasoning = {b.error};
  }
  return u;
}

}  // namespace

Orchestrator::Orchestrator(OrchestratorOptions opts, ConsensusPolicy policy, SnapshotSource source,
                           std::shared_ptr<EventSink> sink)
    : opts_(opts),
      source_(std::move(source)),
      sink_(std::move(sink)),
      io_(std::make_unique<Io>()),
      gate_(std::make_shared<Gate>()),
      policy_(policy) {
  policy_.validate();
  if (opts_.compute_threads < 1 || opts_.compute_threads > 256) {
    throw InvalidArgument("compute_threads " + std::to_string(opts_.compute_threads) +
                          " is not accepted; expected 1 to 256");
  }
  gate_->compute = &io_->compute;
  if (opts_.driven) return;  // the callers of request() run the compute queue themselves
  for (std::size_t i = 0; i < opts_.compute_threads; ++i) {
    threads_.emplace_back([this] {
      name_this_thread("gs-compute");
      io_->compute.run();
    });
  }
  threads_.emplace_back([this] {
    name_this_thread("gs-timers");
    io_->timers.run();
  });
}

Orchestrator::~Orchestrator() { stop(); }

std::chrono::milliseconds Orchestrator::timeout_of(const Agent& a) const {
  const auto t = a.spec().timeout;
  return t.count() > 0 ? t : std::chrono::milliseconds(default_timeout_ms_.load());
}

void Orchestrator::set_default_timeout(std::chrono::milliseconds t) {
  if (t.count() <= 0 || t > std::chrono::hours(1)) {
    throw InvalidArgument("agent_timeout " + std::to_string(t.count()) +
                          " ms is not accepted; expected 1 ms to 1 hour");
  }
  default_timeout_ms_.store(t.count());
}

void Orchestrator::add_agent(AgentPtr agent) {
  if (!agent) throw InvalidArgument("add_agent: agent is null");
  const auto& s = agent->spec();
  if (s.name.empty()) throw InvalidArgument("add_agent: agent name is empty");
  if (!std::isfinite(s.weight) || s.weight <= 0.0) {
    throw InvalidArgument("agent '" + s.name + "': weight " + fmt_num(s.weight) +
                          " is not accepted; expected a finite number > 0");
  }
  if (s.timeout.count() < 0 || s.timeout > std::chrono::hours(1)) {
    throw InvalidArgument(
        "agent '" + s.name + "': timeout " + std::to_string(s.timeout.count()) +
        " ms is not accepted; expected 1 ms to 1 hour (0: the default agent_timeout)");
  }
  std::lock_guard lk(mu_);
  for (const auto& e : agents_) {
    if (e->agent->name() == s.name) {
      throw InvalidArgument("agent name '" + s.name + "' is already registered; names are unique");
    }
  }
  agents_.push_back(std::make_shared<Entry>(std::move(agent), opts_));
}

bool Orchestrator::remove_agent(const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = std::find_if(agents_.begin(), agents_.end(),
                         [&](const auto& e) { return e->agent->name() == name; });
  if (it == agents_.end()) return false;
  agents_.erase(it);
  return true;
}

std::vector<AgentPtr> Orchestrator::agents() const {
  std::lock_guard lk(mu_);
  std::vector<AgentPtr> out;
  for (const auto& e : agents_) out.push_back(e->agent);
  return out;
}

ConsensusPolicy Orchestrator::policy() const {
  std::lock_guard lk(mu_);
  return policy_;
}

void Orchestrator::set_policy(const ConsensusPolicy& p) {
  p.validate();
  std::lock_guard lk(mu_);
  policy_ = p;
}

std::shared_ptr<Orchestrator::SymbolSlot> Orchestrator::slot_for(const std::string& symbol) {
  std::lock_guard lk(mu_);
  auto& s = slots_[symbol];
  if (!s) {
    if (slots_.size() > opts_.max_symbols) {
      slots_.erase(symbol);
      throw InvalidArgument("analysis of '" + symbol + "' refused: already tracking " +
                            std::to_string(opts_.max_symbols) + " symbols (max_symbols)");
    }
    s = std::make_shared<SymbolSlot>();
    s->symbol = symbol;
  }
  return s;
}

std::shared_future<DecisionPtr> Orchestrator::request(const std::string& symbol,
                                                      Trigger trigger) {
  auto slot = slot_for(symbol);
  std::shared_ptr<std::promise<DecisionPtr>> promise;
  std::shared_future<DecisionPtr> fut;
  {
    // stop() flips stopping_ under idle_mu_: no request can slip in after it drained.
    std::lock_guard il(idle_mu_);
    if (stopping_.load()) throw StateError("the orchestrator is stopped; start the runtime first");
    std::lock_guard lk(slot->mu);
    if (slot->in_flight) {
      if (slot->follow_up) {
        coalesced_.fetch_add(1);
      } else {
        slot->follow_up = true;
        slot->follow_trigger = trigger;
        slot->follow_promise = std::make_shared<std::promise<DecisionPtr>>();
        slot->follow_future = slot->follow_promise->get_future().share();
      }
      return slot->current;
    }
    slot->in_flight = true;
    promise = std::make_shared<std::promise<DecisionPtr>>();
    slot->current = promise->get_future().share();
    fut = slot->current;
    active_.fetch_add(1);  // under idle_mu_, so stop() waits for this analysis
  }
  if (opts_.driven) {
    launch(slot, trigger, std::move(promise));
    drive(*slot);
    return fut;
  }
  asio::post(io_->compute, [this, slot, trigger, promise]() mutable {
    launch(slot, trigger, std::move(promise));
  });
  return fut;
}

void Orchestrator::drive(SymbolSlot& slot) {
  const bool outer = !std::exchange(tl_driving, true);
  drivers_.fetch_add(1);
  while (true) {
    {
      std::lock_guard lk(slot.mu);
      if (!slot.in_flight) break;
    }
    // Blocks only while an agent answers from another thread (an async Python agent, whose
    // event loop enforces its deadline); complete() wakes it when it finished elsewhere.
    io_->compute.run_one();
  }
  drivers_.fetch_sub(1);
  if (outer) tl_driving = false;
}

void Orchestrator::launch(const std::shared_ptr<SymbolSlot>& slot, Trigger trigger,
                          std::shared_ptr<std::promise<DecisionPtr>> promise) {
  auto a = open_analysis(slot, trigger, std::move(promise));
  if (!a) return;
  AgentUpdate start;
  start.symbol = a->symbol;
  start.analysis_id = a->id;
  start.agent = "Orchestrator";
  start.signal = AgentSignal::Analyzing;
  start.reasoning = {"trigger: " + std::string(to_string(a->trigger)),
                     std::to_string(a->entries.size()) + " agents"};
  start.ts_ms = now_ms();
  sink_->on_agent_update(start);
  // Decide who runs before anyone starts, so a fast agent cannot finish the analysis early.
  std::vector<Ballot> refused;
  const auto runners = admit(*a, refused);
  for (const auto& b : refused) sink_->on_agent_update(make_update(a->symbol, a->id, b));
  if (runners.empty()) {
    finish(a);
    return;
  }
  for (std::size_t i : runners) {
    AgentUpdate u;
    u.symbol = a->symbol;
    u.analysis_id = a->id;
    u.agent = a->ballots[i].agent;
    u.signal = AgentSignal::Processing;
    u.ts_ms = now_ms();
    sink_->on_agent_update(u);
  }
  for (std::size_t i : runners) start_agent(a, i);
}

std::shared_ptr<Orchestrator::Analysis> Orchestrator::open_analysis(
    const std::shared_ptr<SymbolSlot>& slot, Trigger trigger,
    std::shared_ptr<std::promise<DecisionPtr>> promise) {
  auto a = std::make_shared<Analysis>();
  a->id = uuid4();
  a->symbol = slot->symbol;
  a->trigger = trigger;
  a->slot = slot;
  a->promise = std::move(promise);
  a->started = Clock::now();
  started_.fetch_add(1);

  SnapshotPtr snap;
  std::string why;
  try {
    snap = source_(a->symbol);
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!snap && why.empty()) why = "no market data for " + a->symbol + " yet";
  if (!snap) {
    auto d = std::make_shared<Decision>();
    d->symbol = a->symbol;
    d->analysis_id = a->id;
    d->trigger = a->trigger;
    d->consensus.reason = why;
    d->ts_ms = now_ms();
    complete(a, std::move(d));
    return nullptr;
  }
  a->ctx = std::make_shared<AgentContext>(AgentContext{std::move(snap), a->id});
  {
    std::lock_guard lk(mu_);
    a->entries = agents_;
  }
  const std::size_t n = a->entries.size();
  a->ballots.resize(n);
  a->settled.assign(n, false);
  a->deadlines.resize(n);
  a->answered.assign(n, Clock::time_point::max());
  a->timers.resize(n);
  return a;
}

std::vector<std::size_t> Orchestrator::admit(Analysis& a, std::vector<Ballot>& refused) {
  std::vector<std::size_t> runners;
  std::lock_guard lk(a.mu);
  const auto now = Clock::now();
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    auto& e = *a.entries[i];
    Ballot& b = a.ballots[i];
    b.agent = e.agent->name();
    b.weight = e.agent->spec().weight;
    std::lock_guard ek(e.mu);
    if (auto why = e.breaker.admit(now)) {
      b.status = AgentStatus::Disabled;
      b.error = std::move(*why);
      a.settled[i] = true;
      refused.push_back(b);
      continue;
    }
    runners.push_back(i);
    a.deadlines[i] = now + timeout_of(*e.agent);
  }
  a.remaining = runners.size();
  return runners;
}

void Orchestrator::start_agent(const std::shared_ptr<Analysis>& a, std::size_t i) {
  if (!opts_.driven) {  // driven: no timer thread; a late answer is judged on arrival
    auto timer = std::make_unique<asio::steady_timer>(io_->timers, a->deadlines[i]);
    timer->async_wait([this, a, i](const boost::system::error_code& ec) {
      if (!ec) asio::post(io_->compute, [this, a, i] { on_deadline(a, i); });
    });
    std::lock_guard lk(a->mu);
    a->timers[i] = std::move(timer);
  }
  const auto& agent = a->entries[i]->agent;
  auto done = [gate = gate_, a, i, this](AgentOutcome out) {
    const auto arrived = Clock::now();
    {
      // Seen by on_deadline: an answer in time is never turned into a timeout by a race.
      std::lock_guard lk(a->mu);
      if (a->answered[i] == Clock::time_point::max()) a->answered[i] = arrived;
    }
    std::lock_guard gl(gate->mu);
    if (!gate->compute) return;  // the orchestrator is gone; nothing to tell
    asio::post(*gate->compute, [this, a, i, out = std::move(out), arrived]() mutable {
      on_result(a, i, std::move(out), arrived);
    });
  };
  const auto deadline = a->deadlines[i];
  if (agent->spec().kind == AgentKind::Native) {
    asio::post(io_->compute, [agent, ctx = a->ctx, deadline, done = std::move(done)]() mutable {
      agent->start(std::move(ctx), deadline, std::move(done));
    });
  } else {
    agent->start(a->ctx, deadline, std::move(done));
  }
}

void Orchestrator::on_result(const std::shared_ptr<Analysis>& a, std::size_t i, AgentOutcome out,
                             Clock::time_point arrived) {
  Ballot b;
  {
    std::lock_guard lk(a->mu);
    b.agent = a->ballots[i].agent;
    b.weight = a->ballots[i].weight;
    b.latency_ms = ms_between(a->started, arrived);
    if (a->settled[i] || arrived > a->deadlines[i]) {
      // A late answer never counts; it only shows in the agent's statistics.
      auto& e = *a->entries[i];
      std::lock_guard ek(e.mu);
      ++e.late;
      if (a->settled[i]) return;
      b.status = AgentStatus::Timeout;
      b.error =
          "answered after its deadline of " + std::to_string(timeout_of(*e.agent).count()) + " ms";
    }
  }
  if (b.status != AgentStatus::Timeout) {
    if (out.failed) {
      b.status = AgentStatus::Failed;
      b.error = out.error.empty() ? "failed" : out.error;
    } else if (!out.vote) {
      b.status = AgentStatus::Abstain;
    } else if (auto problem = vote_problem(*out.vote, b.agent)) {
      b.status = AgentStatus::Failed;
      b.error = "invalid vote: " + *problem;
    } else {
      b.status = AgentStatus::Ok;
      b.vote = std::move(out.vote);
    }
  }
  settle(a, i, std::move(b));
}

void Orchestrator::on_deadline(const std::shared_ptr<Analysis>& a, std::size_t i) {
  Ballot b;
  {
    std::lock_guard lk(a->mu);
    if (a->settled[i] || a->answered[i] <= a->deadlines[i]) return;  // on_result settles it
    b.agent = a->ballots[i].agent;
    b.weight = a->ballots[i].weight;
    b.latency_ms = ms_between(a->started, Clock::now());
    b.status = AgentStatus::Timeout;
    b.error =
        "no answer within " + std::to_string(timeout_of(*a->entries[i]->agent).count()) + " ms";
  }
  settle(a, i, std::move(b));
}

void Orchestrator::settle(const std::shared_ptr<Analysis>& a, std::size_t i, Ballot b) {
  bool last = false;
  {
    std::lock_guard lk(a->mu);
    if (a->settled[i]) return;
    a->settled[i] = true;
    a->ballots[i] = b;
    if (a->timers[i]) a->timers[i]->cancel();
    last = --a->remaining == 0;
  }
  account(*a->entries[i], b);
  sink_->on_agent_update(make_update(a->symbol, a->id, b));
  if (last) finish(a);
}

void Orchestrator::account(Entry& e, const Ballot& b) {
  std::optional<Alert> alert;
  {
    std::lock_guard lk(e.mu);
    ++e.calls;
    const bool fault = b.status == AgentStatus::Timeout || b.status == AgentStatus::Failed;
    switch (b.status) {
      case AgentStatus::Ok:
        ++e.votes;
        break;
      case AgentStatus::Abstain:
        ++e.abstentions;
        break;
      case AgentStatus::Timeout:
        ++e.timeouts;
        break;
      case AgentStatus::Failed:
        ++e.errors;
        break;
      case AgentStatus::Disabled:
        break;
    }
    if (b.status != AgentStatus::Timeout) e.hist.record(b.latency_ms);
    switch (e.breaker.record(fault, b.error, Clock::now())) {
      case CircuitBreaker::Change::Opened:
        alert = Alert{AlertType::System, Severity::Warning, "agent_disabled",
                      "agent " + e.agent->name() + " disabled for " +
                          fmt_num(static_cast<double>(e.breaker.cooldown().count()) / 1000.0) +
                          " s after " + std::to_string(e.breaker.consecutive()) +
                          " consecutive faults; last: " + b.error,
                      now_ms()};
        break;
      case CircuitBreaker::Change::Closed:
        alert = Alert{AlertType::System, Severity::Info, "agent_enabled",
                      "agent " + e.agent->name() + " re-enabled after a successful trial call",
                      now_ms()};
        break;
      case CircuitBreaker::Change::None:
        break;
    }
  }
  if (alert) sink_->on_alert(*alert);
}

void Orchestrator::finish(const std::shared_ptr<Analysis>& a) {
  auto d = std::make_shared<Decision>();
  d->symbol = a->symbol;
  d->analysis_id = a->id;
  d->trigger = a->trigger;
  {
    std::lock_guard lk(a->mu);
    d->ballots = a->ballots;
  }
  const auto& m = *a->ctx->market;
  d->price = m.price;
  d->market_ts_ms = m.as_of_ms;
  d->indicators = m.indicators;
  WeightAdvisor advisor;
  {
    std::lock_guard lk(mu_);
    advisor = advisor_;
  }
  std::vector<std::string> why;
  if (advisor) why = advisor(d->ballots);
  d->consensus = decide(d->ballots, policy(), m.price, m.indicators.atr_14);
  d->ts_ms = now_ms();
  if (d->has_signal()) {
    for (auto& line : why) d->consensus.reasoning.push_back("adaptive " + std::move(line));
    d->signal_id = uuid4();
    // Fraction of equity: 5% at full confidence, scaled down with it.
    d->position_size = std::round(0.05 * d->consensus.confidence * 1e4) / 1e4;
    signals_.fetch_add(1);
  }
  complete(a, std::move(d));
}

void Orchestrator::complete(const std::shared_ptr<Analysis>& a, std::shared_ptr<Decision> d) {
  DecisionPtr done = std::move(d);
  completed_.fetch_add(1);
  {
    std::lock_guard lk(a->mu);
    a->timers.clear();  // no timer outlives this analysis' part in the orchestrator
  }

  // The slot moves on before anyone hears of the decision, so whoever asks again then starts
  // a new analysis instead of joining the one that just ended.
  auto& slot = *a->slot;
  std::shared_ptr<std::promise<DecisionPtr>> next;
  Trigger trigger = Trigger::Manual;
  {
    std::lock_guard lk(slot.mu);
    if (slot.follow_up && !stopping_.load()) {
      slot.follow_up = false;
      next = std::move(slot.follow_promise);
      slot.current = slot.follow_future;
      trigger = slot.follow_trigger;
    } else {
      if (slot.follow_up) {  // stopping: the follow-up will not run; tell its waiters
        slot.follow_up = false;
        auto none = std::make_shared<Decision>();
        none->symbol = slot.symbol;
        none->consensus.reason = "runtime stopped before the follow-up analysis";
        none->ts_ms = now_ms();
        slot.follow_promise->set_value(std::move(none));
      }
      slot.in_flight = false;
    }
  }
  sink_->on_decision(done);
  a->promise->set_value(done);
  if (next) {
    asio::post(io_->compute, [this, s = a->slot, trigger, next]() mutable {
      launch(s, trigger, std::move(next));
    });
    return;
  }
  {
    std::lock_guard lk(idle_mu_);
    active_.fetch_sub(1);
  }
  idle_cv_.notify_all();
  // Driven: another thread may be waiting in run_one() for an analysis this thread finished.
  if (opts_.driven && drivers_.load() > (tl_driving ? 1 : 0)) asio::post(io_->compute, [] {});
}

void Orchestrator::set_weight_advisor(WeightAdvisor advisor) {
  std::lock_guard lk(mu_);
  advisor_ = std::move(advisor);
}

void Orchestrator::wait_idle(const std::string& symbol) {
  std::shared_ptr<SymbolSlot> slot;
  {
    std::lock_guard lk(mu_);
    auto it = slots_.find(symbol);
    if (it == slots_.end()) return;
    slot = it->second;
  }
  std::unique_lock lk(idle_mu_);
  idle_cv_.wait(lk, [&] {
    std::lock_guard sl(slot->mu);
    return !slot->in_flight;
  });
}

void Orchestrator::stop() {
  {
    std::unique_lock lk(idle_mu_);
    if (stopping_.exchange(true)) return;
    // Analyses in flight end by their deadlines; wait for them, not for stuck agents.
    idle_cv_.wait_for(lk, std::chrono::hours(2), [&] { return active_.load() == 0; });
  }
  {
    std::lock_guard gl(gate_->mu);
    gate_->compute = nullptr;
  }
  io_->compute_guard.reset();
  io_->timer_guard.reset();
  io_->compute.stop();
  io_->timers.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Orchestrator::Counters Orchestrator::counters() const {
  Counters c;
  c.analyses_started = started_.load();
  c.analyses_completed = completed_.load();
  c.signals_generated = signals_.load();
  c.coalesced = coalesced_.load();
  c.active_analyses = active_.load();
  return c;
}

std::vector<AgentStatsView> Orchestrator::agent_stats() const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lk(mu_);
    entries = agents_;
  }
  std::vector<AgentStatsView> out;
  const auto now = Clock::now();
  for (const auto& ep : entries) {
    auto& e = *ep;
    std::lock_guard lk(e.mu);
    AgentStatsView v;
    const auto& s = e.agent->spec();
    v.name = s.name;
    v.kind = s.kind == AgentKind::Native ? "native" : "python";
    v.weight = s.weight;
    v.timeout_ms = static_cast<double>(timeout_of(*e.agent).count());
    v.calls = e.calls;
    v.votes = e.votes;
    v.abstentions = e.abstentions;
    v.timeouts = e.timeouts;
    v.errors = e.errors;
    v.late = e.late;
    v.latency = e.hist;
    v.enabled = e.breaker.enabled(now);
    v.state = e.breaker.state(now);
    v.consecutive_faults = e.breaker.consecutive();
    v.last_error = e.breaker.last_error();
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace gs
