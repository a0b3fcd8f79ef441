#include "init.hpp"

namespace gs::bind {

void init_bench(pybind11::module_& /*m*/) {}

}  // namespace gs::bind
