#include "init.hpp"

namespace gs::bind {

void init_consensus(pybind11::module_& /*m*/) {}

}  // namespace gs::bind
