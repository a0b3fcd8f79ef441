#include <pybind11/pybind11.h>

#include "bench.hpp"

PYBIND11_MODULE(_gs_bench, m) {
  m.doc() = "GoldenSignals benchmark entry points (bench/; not part of the package)";
  // The types its Python agents see (the agent context) are registered by _core.
  pybind11::module_::import("goldensignals._core");
  gs::bench_py::init_native_agents(m);
  gs::bench_py::init_python_agents(m);
  gs::bench_py::init_formats(m);
}
