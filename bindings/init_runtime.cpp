#include "init.hpp"

namespace gs::bind {

void init_runtime(pybind11::module_& /*m*/) {}

}  // namespace gs::bind
