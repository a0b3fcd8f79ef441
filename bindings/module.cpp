// goldensignals._core: the private native module. One init_<area> per area.
#include <pybind11/pybind11.h>

#include "init.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "GoldenSignals native core (private; import goldensignals instead)";
  m.attr("__version__") = GS_VERSION;
  gs::bind::init_errors(m);
  gs::bind::init_types(m);
  gs::bind::init_indicators(m);
  gs::bind::init_consensus(m);
  gs::bind::init_agents(m);
  gs::bind::init_settings(m);
  gs::bind::init_runtime(m);
  gs::bind::init_history(m);
  gs::bind::init_evaluation(m);
}
