// JSON values (nlohmann::json) as plain Python objects, for every binding that returns JSON.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace gs::bind {

// dict / list / str / int / float / bool / None, recursively; binary becomes bytes.
pybind11::object to_py(const nlohmann::json& j);

}  // namespace gs::bind
