// The Python faces of runtime events: gs.Signal, gs.Decision, gs.AgentUpdate, and the
// conversion of each event for the Python dispatcher.
#pragma once

#include <pybind11/pybind11.h>

#include "goldensignals/runtime/runtime.hpp"

namespace gs::bind {

struct LogRecord;

// gs.Signal and gs.Decision share the decision they come from (no copy).
struct PySignal {
  DecisionPtr d;
};
struct PyDecision {
  DecisionPtr d;
};

void bind_event_types(pybind11::module_& m);

void deliver(pybind11::object& dispatch, const AgentUpdate& u);
void deliver(pybind11::object& dispatch, const DecisionPtr& d);
void deliver(pybind11::object& dispatch, const Alert& a);
void deliver(pybind11::object& dispatch, const PriceUpdate& p);
void deliver(pybind11::object& dispatch, const LogRecord& r);

}  // namespace gs::bind
