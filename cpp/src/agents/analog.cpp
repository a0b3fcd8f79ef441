// Analog: retrieval of past setups like the present one (see analog.hpp).
#include "goldensignals/agents/analog.hpp"

// hnswlib 0.6.2 (Debian's) prefetches one entry past a neighbour list when it uses SSE, a
// read ASan reports; without its manual vectorization there is no prefetch (and for nine
// dimensions the SIMD distance saves next to nothing).
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <queue>
#include <random>
#include <utility>

#include "agent_util.hpp"
#include "goldensignals/agents/builtin.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs {

using namespace agents_detail;

namespace {

constexpr std::size_t kLookback = 60;  // bars before j the features read
constexpr float kClip = 5.0F;

float clip(double x) {
  return static_cast<float>(std::clamp(x, -static_cast<double>(kClip), static_cast<double>(kClip)));
}

// Sample standard deviation of the 1-bar log returns ending at j, over n returns.
double vol(const double* c, std::size_t j, std::size_t n) {
  double s = 0, s2 = 0;
  for (std::size_t m = j + 1 - n; m <= j; ++m) {
    const double r = std::log(c[m] / c[m - 1]);
    s += r;
    s2 += r * r;
  }
  const double mean = s / static_cast<double>(n);
  const double var = (s2 - static_cast<double>(n) * mean * mean) / static_cast<double>(n - 1);
  return var > 0 ? std::sqrt(var) : 0.0;
}

double mean_of(const double* x, std::size_t j, std::size_t n) {
  double s = 0;
  for (std::size_t m = j + 1 - n; m <= j; ++m) s += x[m];
  return s / static_cast<double>(n);
}

std::string when(std::int64_t ms) {
  auto s = iso8601_ms(ms);  // 2008-03-14T00:00:00.000Z
  if (ms % 86'400'000 == 0) return s.substr(0, 10);
  return s.substr(0, 10) + " " + s.substr(11, 8);
}

double pct_of_log(double r) { return (std::exp(r) - 1.0) * 100.0; }

}  // namespace

void AnalogOptions::validate() const {
  auto range = [](const char* name, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) {
      throw InvalidArgument("Analog " + std::string(name) + " = " + fmt_num(v) +
                            " is not accepted; expected " + fmt_num(lo) + " to " + fmt_num(hi));
    }
  };
  range("k", static_cast<double>(k), 1, 1000);
  range("horizon", static_cast<double>(horizon), 1, 250);
  range("min_history", static_cast<double>(min_history), 1, 1e9);
  range("min_agreement", min_agreement, 1e-6, 1);
  range("exact_limit", static_cast<double>(exact_limit), 1, 1e12);
  range("hnsw_m", static_cast<double>(hnsw_m), 2, 100);
  range("hnsw_ef_construction", static_cast<double>(hnsw_ef_construction), 1, 10'000);
  range("hnsw_ef_search", static_cast<double>(hnsw_ef_search), 1, 10'000);
  range("max_vectors", static_cast<double>(max_vectors), 1000, 1e9);
}

std::optional<AnalogVector> analog_features(const double* close, const double* volume,
                                            std::size_t j) {
  if (j < kLookback) return std::nullopt;
  const double* c = close;
  for (std::size_t m = j - kLookback; m <= j; ++m) {
    if (!(c[m] > 0) || !std::isfinite(c[m]) || !std::isfinite(volume[m])) return std::nullopt;
  }
  const double v20 = vol(c, j, 20);
  if (!(v20 > 0)) return std::nullopt;
  const double v60 = vol(c, j, 60);
  auto ret = [&](std::size_t n) {
    return std::log(c[j] / c[j - n]) / (v20 * std::sqrt(static_cast<double>(n)));
  };
  double gain = 0, loss = 0;
  for (std::size_t m = j - 13; m <= j; ++m) {
    const double d = c[m] - c[m - 1];
    (d > 0 ? gain : loss) += std::abs(d);
  }
  const double rsi = gain + loss > 0 ? 100.0 * gain / (gain + loss) : 50.0;
  const double vmean = mean_of(volume, j, 20);
  double vvar = 0;
  for (std::size_t m = j - 19; m <= j; ++m) vvar += (volume[m] - vmean) * (volume[m] - vmean);
  const double vsd = std::sqrt(vvar / 19.0);
  AnalogVector f{};
  f[0] = clip(ret(1));
  f[1] = clip(ret(5));
  f[2] = clip(ret(20));
  f[3] = clip(ret(60));
  f[4] = clip(v60 > 0 ? std::log(v20 / v60) : 0.0);
  f[5] = clip((rsi - 50.0) / 25.0);
  f[6] = clip(std::log(c[j] / mean_of(c, j, 20)) / (v20 * std::sqrt(20.0)));
  f[7] = clip(std::log(c[j] / mean_of(c, j, 50)) / (v20 * std::sqrt(50.0)));
  f[8] = clip(vsd > 0 ? (volume[j] - vmean) / vsd : 0.0);
  return f;
}

// --- one symbol's memory --------------------------------------------------------------------

struct Analog::Memory {
  Memory(std::string s, const AnalogOptions& o)
      : symbol(std::move(s)), space(kAnalogDims), rng(o.seed ^ std::hash<std::string>{}(symbol)) {}

  std::string symbol;
  mutable std::shared_mutex mu;  // learning takes it exclusively, searching shared

  // The last bars (for the features) and the setups waiting for their outcome.
  std::vector<double> close, volume;
  std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
  std::uint64_t bars = 0;  // bars learnt
  struct Pending {
    std::uint64_t bar;
    std::int64_t time;
    double close;
    AnalogVector f;
  };
  std::deque<Pending> pending;

  // The setups whose outcome is known, in the order it became known (so the ones known by a
  // time are a prefix), and their index (label = position).
  std::vector<AnalogVector> vec;
  std::vector<std::int64_t> bar_time, known_time;
  std::vector<float> outcome;  // what a vote reads: the outcome, or a shuffled one (control)
  std::vector<float> raw;      // the outcomes as they happened
  bool full = false;  // max_vectors reached
  hnswlib::L2Space space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
  std::mt19937_64 rng;

  void learn_bar(const AnalogOptions& o, std::int64_t t, double c, double v) {
    if (t <= last_time) return;
    last_time = t;
    close.push_back(c);
    volume.push_back(v);
    const std::uint64_t now = bars++;
    while (!pending.empty() && pending.front().bar + o.horizon <= now) {
      const auto& p = pending.front();
      if (p.close > 0 && c > 0) store(o, p, static_cast<float>(std::log(c / p.close)), t);
      pending.pop_front();
    }
    const std::size_t j = close.size() - 1;
    if (auto f = analog_features(close.data(), volume.data(), j)) {
      pending.push_back(Pending{now, t, c, *f});
    }
    if (close.size() > 4 * kLookback) {  // keep the last kLookback + 1 bars
      const auto drop = static_cast<std::ptrdiff_t>(close.size() - (kLookback + 1));
      close.erase(close.begin(), close.begin() + drop);
      volume.erase(volume.begin(), volume.begin() + drop);
    }
  }

  // A gap in what was seen (the snapshot no longer overlaps): features must not span it.
  void restart_window() {
    close.clear();
    volume.clear();
    pending.clear();
  }

  void store(const AnalogOptions& o, const Pending& p, float fwd, std::int64_t known) {
    if (vec.size() >= o.max_vectors) {
      full = true;
      return;
    }
    const std::size_t label = vec.size();
    vec.push_back(p.f);
    bar_time.push_back(p.time);
    known_time.push_back(known);
    raw.push_back(fwd);
    // The shuffle control: an outcome drawn from those known by now (never a later one).
    float used = fwd;
    if (o.shuffle_outcomes) used = raw[std::uniform_int_distribution<std::size_t>(0, label)(rng)];
    outcome.push_back(used);
    if (!hnsw) {
      hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
          &space, 1024, o.hnsw_m, o.hnsw_ef_construction, o.seed);
      hnsw->setEf(o.hnsw_ef_search);
    } else if (label >= hnsw->max_elements_) {
      hnsw->resizeIndex(std::min(o.max_vectors, 2 * hnsw->max_elements_));
    }
    hnsw->addPoint(vec.back().data(), label);
  }

  // Setups known at `as_of` (all of them without the as-of filter).
  [[nodiscard]] std::size_t eligible(const AnalogOptions& o, std::int64_t as_of) const {
    if (!o.as_of) return vec.size();
    return static_cast<std::size_t>(
        std::upper_bound(known_time.begin(), known_time.end(), as_of) - known_time.begin());
  }
};

namespace {

float dist2(const AnalogVector& a, const AnalogVector& b) {
  float s = 0;
  for (std::size_t i = 0; i < kAnalogDims; ++i) {
    const float d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

using Hit = std::pair<float, std::size_t>;  // squared distance, label

// The k nearest among labels [0, n): exact, or HNSW over-fetched and filtered to the prefix.
std::vector<Hit> nearest_in(const Analog::Memory& m, const AnalogOptions& o,
                            const AnalogVector& q, std::size_t n) {
  const std::size_t k = std::min(o.k, n);
  std::vector<Hit> out;
  if (k == 0) return out;
  if (n > o.exact_limit && m.hnsw) {
    // Labels >= n are setups not yet known: fetch more until k known ones come back.
    std::size_t want = k * std::max<std::size_t>(2, (m.vec.size() + n - 1) / n);
    while (want < m.vec.size()) {
      auto pq = m.hnsw->searchKnn(q.data(), want);  // searches with max(ef, want) candidates
      out.clear();
      while (!pq.empty()) {
        if (pq.top().second < n) out.emplace_back(pq.top().first, pq.top().second);
        pq.pop();
      }
      if (out.size() >= k) {
        std::sort(out.begin(), out.end());
        out.resize(k);
        return out;
      }
      want *= 4;
    }
    out.clear();  // the filter keeps too few: exact below
  }
  std::priority_queue<Hit> top;  // the k best so far, worst on top
  for (std::size_t i = 0; i < n; ++i) {
    const float d = dist2(q, m.vec[i]);
    if (top.size() < k) {
      top.emplace(d, i);
    } else if (d < top.top().first) {
      top.pop();
      top.emplace(d, i);
    }
  }
  out.reserve(top.size());
  while (!top.empty()) {
    out.push_back(top.top());
    top.pop();
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

// --- the agent ------------------------------------------------------------------------------

Analog::Analog(AnalogOptions o, AgentSpec spec) : Agent(std::move(spec)), opts_(o) {
  opts_.validate();
}

Analog::~Analog() = default;

AgentSpec Analog::default_spec() {
  return {"Analog", kBuiltinWeight, std::chrono::milliseconds(1000), AgentKind::Native};
}

Analog::Memory& Analog::memory(const std::string& symbol) const {
  {
    std::shared_lock lk(mu_);
    if (auto it = memories_.find(symbol); it != memories_.end()) return *it->second;
  }
  std::unique_lock lk(mu_);
  auto& slot = memories_[symbol];
  if (!slot) slot = std::make_unique<Memory>(symbol, opts_);
  return *slot;
}

void Analog::learn(const std::string& symbol, const std::vector<std::int64_t>& time_ms,
                   const std::vector<double>& close, const std::vector<double>& volume) const {
  if (time_ms.size() != close.size() || close.size() != volume.size()) {
    throw InvalidArgument("Analog.learn(" + symbol + "): time, close and volume have " +
                          std::to_string(time_ms.size()) + ", " + std::to_string(close.size()) +
                          " and " + std::to_string(volume.size()) +
                          " values; expected the same number");
  }
  auto& m = memory(symbol);
  std::unique_lock lk(m.mu);
  for (std::size_t i = 0; i < close.size(); ++i) m.learn_bar(opts_, time_ms[i], close[i], volume[i]);
}

Analog::Found Analog::search(const AnalogVector& q, const std::string& symbol,
                             std::int64_t as_of_ms) const {
  std::vector<Memory*> where;
  {
    std::shared_lock lk(mu_);
    if (opts_.cross_symbol) {
      for (auto& [s, m] : memories_) where.push_back(m.get());
    } else if (auto it = memories_.find(symbol); it != memories_.end()) {
      where.push_back(it->second.get());
    }
  }
  Found found;
  auto& all = found.hits;
  for (auto* m : where) {
    std::shared_lock lk(m->mu);
    const auto n = m->eligible(opts_, as_of_ms);
    found.eligible += n;
    for (const auto& [d2, i] : nearest_in(*m, opts_, q, n)) {
      all.push_back(AnalogMatch{m->symbol, m->bar_time[i], std::sqrt(static_cast<double>(d2)),
                                static_cast<double>(m->outcome[i])});
    }
  }
  std::sort(all.begin(), all.end(), [](const AnalogMatch& a, const AnalogMatch& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.time_ms < b.time_ms);
  });
  if (all.size() > opts_.k) all.resize(opts_.k);
  return found;
}

std::vector<AnalogMatch> Analog::nearest(const AnalogVector& query, const std::string& symbol,
                                         std::int64_t as_of_ms) const {
  return search(query, symbol, as_of_ms).hits;
}

std::size_t Analog::size() const {
  std::shared_lock lk(mu_);
  std::size_t n = 0;
  for (const auto& [s, m] : memories_) {
    std::shared_lock ml(m->mu);
    n += m->vec.size();
  }
  return n;
}

std::optional<Vote> Analog::analyze(const AgentContext& ctx) const {
  const auto& s = *ctx.market;
  const std::size_t n = s.size();
  if (n == 0) return std::nullopt;
  auto& m = memory(s.symbol);
  bool full = false;
  {
    std::unique_lock lk(m.mu);
    if (s.time_ms.front() > m.last_time && m.bars > 0) m.restart_window();
    for (std::size_t i = 0; i < n; ++i) m.learn_bar(opts_, s.time_ms[i], s.close[i], s.volume[i]);
    full = m.full;
  }
  const auto q = analog_features(s.close.data(), s.volume.data(), n - 1);
  if (!q) return std::nullopt;  // fewer than 61 bars, or a flat stretch
  const auto found = search(*q, s.symbol, s.time_ms.back());
  if (found.eligible < opts_.min_history || found.hits.empty()) return std::nullopt;
  const auto& hits = found.hits;

  double wsum = 0, lean = 0, mean = 0;
  int rose = 0;
  for (const auto& h : hits) {
    const double w = 1.0 / (h.distance + 0.05);
    wsum += w;
    lean += w * (h.forward_return > 0 ? 1.0 : h.forward_return < 0 ? -1.0 : 0.0);
    mean += w * h.forward_return;
    rose += h.forward_return > 0;
  }
  lean /= wsum;
  mean /= wsum;
  std::vector<std::string> why;
  why.reserve(5);
  why.push_back(say(std::to_string(rose), " of the ", std::to_string(hits.size()),
                    " closest of ", std::to_string(found.eligible),
                    " past setups rose over the next ", std::to_string(opts_.horizon),
                    " bars (weighted agreement ", sfx(lean, 2), ", mean ",
                    sfx(pct_of_log(mean), 2), "%)"));
  const std::size_t shown = std::min<std::size_t>(3, hits.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& h = hits[i];
    why.push_back(say("analog ", opts_.cross_symbol ? h.symbol + " " : std::string(),
                      when(h.time_ms), " (distance ", fx(h.distance, 2), "): ",
                      sfx(pct_of_log(h.forward_return), 2), "%"));
  }
  if (full) {
    why.push_back(say("memory full (", std::to_string(opts_.max_vectors),
                      " setups): newer bars are not learnt"));
  }
  return vote_from_lean(lean, opts_.min_agreement, std::move(why));
}

}  // namespace gs
