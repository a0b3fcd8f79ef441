#include "scoring_py.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "goldensignals/core/errors.hpp"

namespace py = pybind11;

namespace gs::bind {

ScoringOptions scoring_from_dict(const py::dict& d, ScoringOptions base) {
  ScoringOptions o = std::move(base);
  using Set = std::function<void(const py::handle&)>;
  const std::map<std::string, Set> fields = {
      {"horizon_bars", [&](const py::handle& v) { o.horizon_bars = py::cast<int>(v); }},
      {"cost_bps", [&](const py::handle& v) { o.cost_bps = py::cast<double>(v); }},
      {"entry_delay_bars", [&](const py::handle& v) { o.entry_delay_bars = py::cast<int>(v); }},
      {"use_levels", [&](const py::handle& v) { o.use_levels = py::cast<bool>(v); }},
      {"window", [&](const py::handle& v) { o.window = py::cast<std::size_t>(v); }},
      {"keep", [&](const py::handle& v) { o.keep = py::cast<std::size_t>(v); }},
      {"adaptive_weights", [&](const py::handle& v) { o.adaptive_weights = py::cast<bool>(v); }},
      {"weight_floor", [&](const py::handle& v) { o.weight_floor = py::cast<double>(v); }},
      {"weight_cap", [&](const py::handle& v) { o.weight_cap = py::cast<double>(v); }},
      {"weight_gain", [&](const py::handle& v) { o.weight_gain = py::cast<double>(v); }},
      {"min_scored", [&](const py::handle& v) { o.min_scored = py::cast<std::size_t>(v); }},
      {"analyses_from_ms",
       [&](const py::handle& v) { o.analyses_from_ms = py::cast<std::int64_t>(v); }},
  };
  for (const auto& [k, v] : d) {
    const auto key = py::cast<std::string>(k);
    auto it = fields.find(key);
    if (it == fields.end()) {
      std::string known;
      for (const auto& [name, _] : fields) known += (known.empty() ? "" : ", ") + name;
      throw InvalidArgument("scoring: setting '" + key + "' is not known; expected " + known);
    }
    try {
      it->second(v);
    } catch (const py::cast_error&) {
      throw InvalidArgument("scoring: " + key + " " + py::cast<std::string>(py::repr(v)) +
                            " is not accepted; expected a number (or true/false)");
    }
  }
  o.validate();
  return o;
}

namespace {

// One column of a given NumPy type, placed in `d` under `key` when made, then filled row by
// row (the dict holds a handle to the same array).
template <class T>
struct Column {
  py::array_t<T> array;
  T* at;
  template <class Key>
  Column(py::dict& d, const Key& key, std::size_t n)
      : array(static_cast<py::ssize_t>(n)), at(array.mutable_data()) {
    d[key] = array;
  }
};

// An object column, placed as Column is; each distinct text becomes one Python str, shared by
// its rows.
struct TextColumn {
  py::array array;
  std::unordered_map<std::string_view, py::str> seen;
  template <class Key>
  TextColumn(py::dict& d, const Key& key, std::size_t n)
      : array(py::dtype("O"), std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)}) {
    d[key] = array;
    auto** slot = static_cast<PyObject**>(array.mutable_data());
    for (std::size_t i = 0; i < n; ++i) {
      Py_XDECREF(slot[i]);
      slot[i] = py::none().release().ptr();
    }
  }
  void set(std::size_t i, std::string_view text, bool share) {
    py::str value;
    if (!share) {
      value = py::str(text.data(), text.size());
    } else if (auto it = seen.find(text); it != seen.end()) {
      value = it->second;
    } else {
      value = py::str(text.data(), text.size());
      seen.emplace(text, value);
    }
    // Every slot holds a reference (None at first); it is swapped for the text's.
    auto** slot = static_cast<PyObject**>(array.mutable_data()) + i;
    Py_XDECREF(*slot);
    *slot = value.release().ptr();
  }
};

}  // namespace

py::dict scored_columns(const std::vector<ScoredForecast>& rows) {
  const std::size_t n = rows.size();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  py::dict d;
  TextColumn symbol(d, "symbol", n), source(d, "source", n);
  Column<bool> consensus(d, "consensus", n);
  TextColumn analysis_id(d, "analysis_id", n), signal_id(d, "signal_id", n), action(d, "action", n);
  Column<double> confidence(d, "confidence", n);
  Column<std::int64_t> decided_ts(d, "decided_ts_ms", n);
  Column<double> decided_price(d, "decided_price", n), target(d, "target_price", n),
      stop(d, "stop_loss", n);
  Column<std::int64_t> entry_ts(d, "entry_ts_ms", n);
  Column<double> entry_price(d, "entry_price", n);
  Column<std::int64_t> exit_ts(d, "exit_ts_ms", n);
  Column<double> exit_price(d, "exit_price", n);
  TextColumn exit_reason(d, "exit_reason", n);
  Column<std::int64_t> bars_held(d, "bars_held", n);
  Column<double> forward_return(d, "forward_return", n), trade_return(d, "trade_return", n),
      net_return(d, "net_return", n);
  Column<bool> hit(d, "hit", n);
  // Each agent of any consensus forecast's analysis, in order of first appearance: its vote
  // (or status) and confidence on the consensus's rows.
  std::vector<std::string_view> agents;
  std::unordered_map<std::string_view, std::size_t> agent_index;
  for (const auto& f : rows) {
    for (const auto& b : f.ballots) {
      if (agent_index.emplace(b.agent, agents.size()).second) agents.push_back(b.agent);
    }
  }
  py::dict ballot_votes, ballot_conf;
  d["ballot_votes"] = ballot_votes;
  d["ballot_confidence"] = ballot_conf;
  std::vector<TextColumn> votes;
  std::vector<Column<double>> vote_conf;
  for (const auto agent : agents) {
    const py::str name(agent.data(), agent.size());
    votes.emplace_back(ballot_votes, name, n);
    vote_conf.emplace_back(ballot_conf, name, n);
    std::fill(vote_conf.back().at, vote_conf.back().at + n, nan);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto& f = rows[i];
    symbol.set(i, f.symbol, true);
    source.set(i, f.source, true);
    analysis_id.set(i, f.analysis_id, false);
    signal_id.set(i, f.signal_id, f.signal_id.empty());
    action.set(i, to_string(f.action), true);
    exit_reason.set(i, to_string(f.exit_reason), true);
    consensus.at[i] = f.consensus;
    hit.at[i] = f.hit;
    confidence.at[i] = f.confidence;
    decided_price.at[i] = f.decided_price;
    target.at[i] = f.target_price.value_or(nan);
    stop.at[i] = f.stop_loss.value_or(nan);
    entry_price.at[i] = f.entry_price;
    exit_price.at[i] = f.exit_price;
    forward_return.at[i] = f.forward_return;
    trade_return.at[i] = f.trade_return;
    net_return.at[i] = f.net_return;
    decided_ts.at[i] = f.decided_ts_ms;
    entry_ts.at[i] = f.entry_ts_ms;
    exit_ts.at[i] = f.exit_ts_ms;
    bars_held.at[i] = f.bars_held;
    for (const auto& b : f.ballots) {
      const auto a = agent_index.at(b.agent);
      votes[a].set(i, b.vote, true);
      if (b.vote == "BUY" || b.vote == "SELL" || b.vote == "HOLD") {
        vote_conf[a].at[i] = b.confidence;
      }
    }
  }
  return d;
}

}  // namespace gs::bind
