#include "scoring_py.hpp"

#include <pybind11/stl.h>

#include <functional>
#include <map>
#include <string>

#include "goldensignals/core/errors.hpp"

namespace py = pybind11;

namespace gs::bind {

ScoringOptions scoring_from_dict(const py::dict& d) {
  ScoringOptions o;
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
  py::list symbol, source, consensus, analysis_id, signal_id, action, confidence, decided_ts,
      decided_price, target, stop, entry_ts, entry_price, exit_ts, exit_price, exit_reason,
      bars_held, forward_return, trade_return, net_return, hit, ballots;
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
  py::dict d;
  d["symbol"] = symbol;
  d["source"] = source;
  d["consensus"] = consensus;
  d["analysis_id"] = analysis_id;
  d["signal_id"] = signal_id;
  d["action"] = action;
  d["confidence"] = confidence;
  d["decided_ts_ms"] = decided_ts;
  d["decided_price"] = decided_price;
  d["target_price"] = target;
  d["stop_loss"] = stop;
  d["entry_ts_ms"] = entry_ts;
  d["entry_price"] = entry_price;
  d["exit_ts_ms"] = exit_ts;
  d["exit_price"] = exit_price;
  d["exit_reason"] = exit_reason;
  d["bars_held"] = bars_held;
  d["forward_return"] = forward_return;
  d["trade_return"] = trade_return;
  d["net_return"] = net_return;
  d["hit"] = hit;
  d["ballots"] = ballots;
  return d;
}

}  // namespace gs::bind
