#include "init.hpp"

namespace gs::bind {

void init_indicators(pybind11::module_& /*m*/) {}

}  // namespace gs::bind
