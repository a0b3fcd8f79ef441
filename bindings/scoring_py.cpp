#include "scoring_py.hpp"

#include <pybind11/stl.h>

#include <functional>
#include <map>
#include <string>

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

py::dict scored_columns(const std::vector<ScoredForecast>& rows) {
  py::dict d;
  // Each column is a list placed in the dict at once, then filled (a py::list is a handle).
  auto column = [&d](const char* name) {
    py::list l;
    d[name] = l;
    return l;
  };
  auto symbol = column("symbol"), source = column("source"), consensus = column("consensus"),
       analysis_id = column("analysis_id"), signal_id = column("signal_id"),
       action = column("action"), confidence = column("confidence"),
       decided_ts = column("decided_ts_ms"), decided_price = column("decided_price"),
       target = column("target_price"), stop = column("stop_loss"),
       entry_ts = column("entry_ts_ms"), entry_price = column("entry_price"),
       exit_ts = column("exit_ts_ms"), exit_price = column("exit_price"),
       exit_reason = column("exit_reason"), bars_held = column("bars_held"),
       forward_return = column("forward_return"), trade_return = column("trade_return"),
       net_return = column("net_return"), hit = column("hit"), ballots = column("ballots");
  auto opt = [](const std::optional<double>& x) -> py::object {
    return x ? py::object(py::float_(*x)) : py::object(py::none());
  };
  for (const auto& f : rows) {
    symbol.append(f.symbol);
    source.append(f.source);
    consensus.append(f.consensus);
    analysis_id.append(f.analysis_id);
    signal_id.append(f.signal_id);
    action.append(std::string(to_string(f.action)));
    confidence.append(f.confidence);
    decided_ts.append(f.decided_ts_ms);
    decided_price.append(f.decided_price);
    target.append(opt(f.target_price));
    stop.append(opt(f.stop_loss));
    entry_ts.append(f.entry_ts_ms);
    entry_price.append(f.entry_price);
    exit_ts.append(f.exit_ts_ms);
    exit_price.append(f.exit_price);
    exit_reason.append(std::string(to_string(f.exit_reason)));
    bars_held.append(f.bars_held);
    forward_return.append(f.forward_return);
    trade_return.append(f.trade_return);
    net_return.append(f.net_return);
    hit.append(f.hit);
    py::list b;
    for (const auto& x : f.ballots) b.append(py::make_tuple(x.agent, x.vote, x.confidence));
    ballots.append(std::move(b));
  }
  return d;
}

}  // namespace gs::bind
