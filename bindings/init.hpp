// The per-area binding entry points, called once from module.cpp.
#pragma once

#include <pybind11/pybind11.h>

namespace gs::bind {

void init_errors(pybind11::module_& m);
void init_types(pybind11::module_& m);
void init_indicators(pybind11::module_& m);
void init_consensus(pybind11::module_& m);
void init_settings(pybind11::module_& m);
void init_runtime(pybind11::module_& m);
void init_agents(pybind11::module_& m);
void init_history(pybind11::module_& m);
void init_evaluation(pybind11::module_& m);

}  // namespace gs::bind
