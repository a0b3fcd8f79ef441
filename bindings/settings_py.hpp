// Resolved settings (server/settings.hpp) between Python and C++.
#pragma once

#include <pybind11/pybind11.h>

#include "goldensignals/server/settings.hpp"

namespace gs::bind {

// {keyword: value} as goldensignals.settings.resolve returns it, typed by each setting's kind.
settings::Values settings_from_py(const pybind11::dict& d);

pybind11::object setting_to_py(const settings::Value& v);

}  // namespace gs::bind
