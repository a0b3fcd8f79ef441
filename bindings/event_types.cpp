#include "event_types.hpp"

#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "event_pump.hpp"
#include "goldensignals/core/clock.hpp"
#include "json_py.hpp"

namespace py = pybind11;

namespace gs::bind {

namespace {

py::object opt(const std::optional<double>& v) { return v ? py::cast(*v) : py::none(); }

py::dict indicators_dict(const ind::IndicatorValues& v) {
  py::dict d;
  for (const auto& [k, x] : v.defined()) d[py::str(std::string(k))] = x;
  return d;
}

}  // namespace

void bind_event_types(py::module_& m) {
  py::class_<AgentUpdate>(m, "AgentUpdate",
                          "One agent's step in one analysis (the protocol's agent_update data).")
      .def_readonly("symbol", &AgentUpdate::symbol)
      .def_readonly("analysis_id", &AgentUpdate::analysis_id)
      .def_readonly("agent", &AgentUpdate::agent)
      .def_property_readonly("signal",
                             [](const AgentUpdate& u) { return std::string(to_string(u.signal)); })
      .def_readonly("confidence", &AgentUpdate::confidence)
      .def_readonly("latency_ms", &AgentUpdate::latency_ms)
      .def_property_readonly("reasoning",
                             [](const AgentUpdate& u) { return u.reasoning.lines(); })
      .def_property_readonly("timestamp", [](const AgentUpdate& u) { return iso8601_ms(u.ts_ms); })
      .def("to_dict", [](const AgentUpdate& u) { return to_py(agent_update_json(u)); })
      .def("__repr__", [](const AgentUpdate& u) {
        return "AgentUpdate(" + u.symbol + ", " + u.agent + ": " + std::string(to_string(u.signal)) + " " +
               std::to_string(u.confidence).substr(0, 4) + ")";
      });

  py::class_<PySignal>(m, "Signal", "A trading signal: the consensus of an analysis.")
      .def_property_readonly("symbol", [](const PySignal& s) { return s.d->symbol; })
      .def_property_readonly("signal_id", [](const PySignal& s) { return s.d->signal_id; })
      .def_property_readonly("analysis_id", [](const PySignal& s) { return s.d->analysis_id; })
      .def_property_readonly("action",
                             [](const PySignal& s) { return s.d->consensus.action_name(); })
      .def_property_readonly("confidence",
                             [](const PySignal& s) { return s.d->consensus.confidence; })
      .def_property_readonly("agreement",
                             [](const PySignal& s) { return s.d->consensus.agreement; })
      .def_property_readonly(
          "strength",
          [](const PySignal& s) { return std::string(to_string(s.d->consensus.strength)); })
      .def_property_readonly("price", [](const PySignal& s) { return s.d->price; })
      .def_property_readonly("target_price",
                             [](const PySignal& s) { return opt(s.d->consensus.target_price); })
      .def_property_readonly("stop_loss",
                             [](const PySignal& s) { return opt(s.d->consensus.stop_loss); })
      .def_property_readonly("position_size", [](const PySignal& s) { return s.d->position_size; })
      .def_property_readonly("reasoning",
                             [](const PySignal& s) { return s.d->consensus.reasoning; })
      .def_property_readonly("indicators",
                             [](const PySignal& s) { return indicators_dict(s.d->indicators); })
      .def_property_readonly("trigger",
                             [](const PySignal& s) { return std::string(to_string(s.d->trigger)); })
      .def_property_readonly("timestamp", [](const PySignal& s) { return iso8601_ms(s.d->ts_ms); })
      .def_property_readonly("market_time",
                             [](const PySignal& s) { return iso8601_ms(s.d->market_ts_ms); })
      .def_property_readonly("market_time_ms", [](const PySignal& s) { return s.d->market_ts_ms; })
      .def(
          "to_dict", [](const PySignal& s) { return to_py(signal_json(*s.d)); },
          "The protocol's signal_update data object.")
      .def("__repr__", [](const PySignal& s) {
        return "Signal(" + s.d->symbol + " " + s.d->consensus.action_name() +
               " confidence=" + std::to_string(s.d->consensus.confidence).substr(0, 5) +
               " price=" + std::to_string(s.d->price) + ")";
      });

  py::class_<PyDecision>(m, "Decision",
                         "The end of an analysis: a Signal, or NO_SIGNAL with the reason.")
      .def_property_readonly("symbol", [](const PyDecision& x) { return x.d->symbol; })
      .def_property_readonly("analysis_id", [](const PyDecision& x) { return x.d->analysis_id; })
      .def_property_readonly("action",
                             [](const PyDecision& x) { return x.d->consensus.action_name(); })
      .def_property_readonly("signal",
                             [](const PyDecision& x) -> py::object {
                               return x.d->has_signal() ? py::cast(PySignal{x.d}) : py::none();
                             })
      .def_property_readonly("reason", [](const PyDecision& x) { return x.d->consensus.reason; })
      .def_property_readonly("confidence",
                             [](const PyDecision& x) { return x.d->consensus.confidence; })
      .def_property_readonly("agreement",
                             [](const PyDecision& x) { return x.d->consensus.agreement; })
      .def_property_readonly("quorum", [](const PyDecision& x) { return x.d->consensus.quorum; })
      .def_property_readonly(
          "trigger", [](const PyDecision& x) { return std::string(to_string(x.d->trigger)); })
      .def_property_readonly("price", [](const PyDecision& x) { return x.d->price; })
      .def_property_readonly("timestamp",
                             [](const PyDecision& x) { return iso8601_ms(x.d->ts_ms); })
      .def_property_readonly("market_time",
                             [](const PyDecision& x) { return iso8601_ms(x.d->market_ts_ms); })
      .def_property_readonly("market_time_ms",
                             [](const PyDecision& x) { return x.d->market_ts_ms; })
      .def_property_readonly(
          "votes",
          [](const PyDecision& x) {
            py::dict out;
            for (const auto& b : x.d->ballots) {
              out[py::str(b.agent)] = b.vote ? py::cast(*b.vote) : py::none();
            }
            return out;
          },
          "{agent: Vote or None} for every agent of the analysis.")
      .def_property_readonly("agent_statuses",
                             [](const PyDecision& x) {
                               py::dict out;
                               for (const auto& b : x.d->ballots) {
                                 out[py::str(b.agent)] = std::string(to_string(b.status));
                               }
                               return out;
                             })
      .def(
          "to_dict", [](const PyDecision& x) { return to_py(decision_json(*x.d)); },
          "The protocol's decision_update data object.")
      .def("__repr__", [](const PyDecision& x) {
        std::string r = "Decision(" + x.d->symbol + " " + x.d->consensus.action_name();
        if (!x.d->has_signal()) r += ": " + x.d->consensus.reason;
        return r + ")";
      });
}

void deliver(py::object& dispatch, const AgentUpdate& u) { dispatch("agent_update", u); }
void deliver(py::object& dispatch, const DecisionPtr& d) { dispatch("decision", PyDecision{d}); }
void deliver(py::object& dispatch, const Alert& a) { dispatch("alert", to_py(alert_json(a))); }
void deliver(py::object& dispatch, const PriceUpdate& p) {
  py::dict d;
  d["symbol"] = p.symbol;
  d["price"] = p.price;
  d["volume"] = p.volume;
  d["change"] = p.change;
  d["change_percent"] = p.change_percent;
  d["timestamp"] = iso8601_ms(p.ts_ms);
  dispatch("price_update", d);
}
void deliver(py::object& dispatch, const LogRecord& r) {
  dispatch("log", py::make_tuple(r.level, r.logger, r.message));
}

}  // namespace gs::bind
