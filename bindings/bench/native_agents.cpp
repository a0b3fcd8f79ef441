// The benchmark and cross-check of the built-in agents on replayed bars (_gs_bench, for
// bench/agents.py and the peer's test; not part of the package).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "goldensignals/agents/builtin.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/market/market_state.hpp"
#include "bench.hpp"

namespace py = pybind11;

namespace gs::bench_py {
namespace {

using Column = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Bars before this index are lead-in: from here on every built-in has the history it needs.
constexpr std::size_t kWarmup = 50;
// Bars fed (and snapshots kept) before the agents evaluate them: few clock reads per bar, and
// the kept snapshots (24 KB each) stay in L2 as a fresh snapshot would in the runtime.
constexpr std::size_t kChunk = 32;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// OHLCV columns as bars; one day apart, so timestamps always increase.
std::vector<Bar> to_bars(const Column& o, const Column& h, const Column& l, const Column& c,
                         const Column& v) {
  const auto n = static_cast<std::size_t>(c.size());
  for (const Column* col : {&o, &h, &l, &v}) {
    if (static_cast<std::size_t>(col->size()) != n || col->ndim() != 1 || c.ndim() != 1) {
      throw InvalidArgument("open, high, low, close and volume must be 1-d arrays of one length");
    }
  }
  std::vector<Bar> bars(n);
  for (std::size_t i = 0; i < n; ++i) {
    bars[i] =
        Bar{static_cast<std::int64_t>(i) * 86'400'000, o.at(i), h.at(i), l.at(i), c.at(i), v.at(i)};
  }
  return bars;
}

struct BenchResult {
  std::uint64_t evaluations = 0;
  std::uint64_t bars = 0;
  double cpu = 0.0;
  double wall = 0.0;
  double agents_cpu = 0.0;
  double market_cpu = 0.0;
  std::array<std::uint64_t, 4> votes{};  // BUY, SELL, HOLD, abstain
  double confidence_sum = 0.0;           // keeps the votes observable
};

BenchResult run_bench(const std::vector<Bar>& bars, int repeats) {
  const auto agents = make_builtin_agents();
  BenchResult r;
  // Slots are overwritten, not cleared: each old snapshot is freed as a new one arrives, as in
  // the runtime, instead of megabytes at once (which glibc returns to the OS, then faults back).
  std::vector<SnapshotPtr> kept(kChunk);
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu_seconds();
  for (int rep = 0; rep < repeats; ++rep) {
    MarketState ms("BENCH");
    for (std::size_t start = 0; start < bars.size(); start += kChunk) {
      const std::size_t end = std::min(bars.size(), start + kChunk);
      std::size_t m = 0;
      const double t0 = thread_cpu_seconds();
      for (std::size_t i = start; i < end; ++i) {
        ms.on_bar(bars[i]);
        if (i >= kWarmup) kept[m++] = ms.snapshot();
      }
      const double t1 = thread_cpu_seconds();
      for (std::size_t j = 0; j < m; ++j) {
        const AgentContext ctx{kept[j], std::string()};
        for (const auto& agent : agents) {
          const auto vote = agent->analyze(ctx);
          ++r.votes[vote ? static_cast<std::size_t>(vote->action) : 3];
          if (vote) r.confidence_sum += vote->confidence;
        }
      }
      const double t2 = thread_cpu_seconds();
      r.evaluations += m * agents.size();
      r.market_cpu += t1 - t0;
      r.agents_cpu += t2 - t1;
    }
    r.bars += bars.size();
  }
  r.cpu = thread_cpu_seconds() - cpu0;
  r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

py::dict bench_native_agents(const Column& o, const Column& h, const Column& l, const Column& c,
                             const Column& v, int repeats) {
  if (repeats < 1) {
    throw InvalidArgument("native_agents: repeats " + std::to_string(repeats) +
                          " is not accepted; expected >= 1");
  }
  const auto bars = to_bars(o, h, l, c, v);
  BenchResult r;
  {
    py::gil_scoped_release nogil;
    r = run_bench(bars, repeats);
  }
  py::dict votes;
  votes["BUY"] = r.votes[0];
  votes["SELL"] = r.votes[1];
  votes["HOLD"] = r.votes[2];
  votes["ABSTAIN"] = r.votes[3];
  py::dict out;
  out["evaluations"] = r.evaluations;
  out["bars"] = r.bars;
  out["agents"] = builtin_agent_names();
  out["warmup_bars"] = kWarmup;
  out["cpu_seconds"] = r.cpu;
  out["wall_seconds"] = r.wall;
  out["agents_cpu_seconds"] = r.agents_cpu;
  out["market_cpu_seconds"] = r.market_cpu;
  out["evaluations_per_cpu_second"] =
      r.agents_cpu > 0 ? static_cast<double>(r.evaluations) / r.agents_cpu : 0.0;
  out["bars_per_cpu_second"] = r.cpu > 0 ? static_cast<double>(r.bars) / r.cpu : 0.0;
  out["mean_confidence"] = r.confidence_sum / static_cast<double>(std::max<std::uint64_t>(
                                                  1, r.votes[0] + r.votes[1] + r.votes[2]));
  out["votes"] = votes;
  return out;
}

// Every built-in's vote on every bar from kWarmup on: action codes (0 BUY, 1 SELL, 2 HOLD,
// -1 abstain or lead-in) and confidences (NaN when no vote), each of shape (bars, agents);
// with_reasoning adds each vote's reasoning (None when no vote).
py::tuple builtin_agent_votes(const Column& o, const Column& h, const Column& l, const Column& c,
                              const Column& v, const std::vector<std::string>& names,
                              bool with_reasoning) {
  const auto bars = to_bars(o, h, l, c, v);
  const auto agents = make_builtin_agents(names);
  const auto n = static_cast<py::ssize_t>(bars.size());
  const auto k = static_cast<py::ssize_t>(agents.size());
  py::array_t<std::int8_t> actions({n, k});
  py::array_t<double> confidence({n, k});
  auto act = actions.mutable_unchecked<2>();
  auto conf = confidence.mutable_unchecked<2>();
  std::vector<std::optional<Vote>> kept;  // row-major (bar, agent), only with_reasoning
  if (with_reasoning) kept.resize(bars.size() * agents.size());
  {
    py::gil_scoped_release nogil;
    MarketState ms("VOTES");
    for (py::ssize_t i = 0; i < n; ++i) {
      ms.on_bar(bars[static_cast<std::size_t>(i)]);
      const AgentContext ctx{ms.snapshot(), std::string()};
      for (py::ssize_t j = 0; j < k; ++j) {
        act(i, j) = -1;
        conf(i, j) = std::numeric_limits<double>::quiet_NaN();
        if (static_cast<std::size_t>(i) < kWarmup) continue;
        auto vote = agents[static_cast<std::size_t>(j)]->analyze(ctx);
        if (!vote) continue;
        act(i, j) = static_cast<std::int8_t>(vote->action);
        conf(i, j) = vote->confidence;
        if (with_reasoning) kept[static_cast<std::size_t>(i * k + j)] = std::move(vote);
      }
    }
  }
  std::vector<std::string> agent_names;
  for (const auto& a : agents) agent_names.push_back(a->name());
  if (!with_reasoning) return py::make_tuple(actions, confidence, agent_names);
  py::list reasoning(static_cast<std::size_t>(n));
  for (py::ssize_t i = 0; i < n; ++i) {
    py::list row(static_cast<std::size_t>(k));
    for (py::ssize_t j = 0; j < k; ++j) {
      const auto& vote = kept[static_cast<std::size_t>(i * k + j)];
      row[static_cast<std::size_t>(j)] =
          vote ? py::object(py::tuple(py::cast(vote->reasoning.lines()))) : py::object(py::none());
    }
    reasoning[static_cast<std::size_t>(i)] = row;
  }
  return py::make_tuple(actions, confidence, agent_names, reasoning);
}

}  // namespace

void init_native_agents(py::module_& m) {
  m.def("native_agents", &bench_native_agents, py::arg("open"), py::arg("high"),
        py::arg("low"), py::arg("close"), py::arg("volume"), py::arg("repeats") = 1,
        R"doc(Benchmark: replays the bars `repeats` times through a fresh MarketState
and, from bar 50 on, evaluates the five built-in agents on each bar's snapshot, with the GIL
released. Returns a dict: evaluations, bars, cpu_seconds (thread CPU), wall_seconds,
agents_cpu_seconds and market_cpu_seconds (the two parts timed apart),
evaluations_per_cpu_second (agents only), bars_per_cpu_second (market update, snapshot and
agents), votes {BUY, SELL, HOLD, ABSTAIN}.)doc");
  m.def("builtin_agent_votes", &builtin_agent_votes, py::arg("open"), py::arg("high"),
        py::arg("low"), py::arg("close"), py::arg("volume"),
        py::arg("names") = std::vector<std::string>{}, py::arg("with_reasoning") = false,
        R"doc(Cross-check: every built-in's vote on every bar from bar 50 on.
Returns (actions int8[bars, agents]: 0 BUY, 1 SELL, 2 HOLD, -1 none; confidence
float64[bars, agents], NaN when none; agent names), and with_reasoning a fourth item:
per bar, per agent, the reasoning tuple or None.)doc");
}

}  // namespace gs::bench_py
