// goldensignals' benchmark module _gs_bench (bench/): entry points that measure the native
// parts directly, kept out of the package's goldensignals._core. Built by a plain CMake build
// (make test, make bench) into build/cpp/bindings/bench; bench/native.py imports it.
#pragma once

#include <pybind11/pybind11.h>

namespace gs::bench_py {

void init_native_agents(pybind11::module_& m);
void init_python_agents(pybind11::module_& m);
void init_formats(pybind11::module_& m);

}  // namespace gs::bench_py
