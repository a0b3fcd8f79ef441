// _core.settings_table, parse_setting, check_settings: the one table of settings
// (cpp/include/goldensignals/server/settings.hpp) for goldensignals.settings.
#include <pybind11/stl.h>

#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/options.hpp"
#include "init.hpp"
#include "settings_py.hpp"

namespace py = pybind11;

namespace gs::bind {

namespace {

const char* kind_name(settings::Kind k) {
  switch (k) {
    case settings::Kind::Integer: return "integer";
    case settings::Kind::Number: return "number";
    case settings::Kind::Boolean: return "boolean";
    case settings::Kind::Text: return "text";
    case settings::Kind::Address: return "address";
    case settings::Kind::Symbols: return "symbols";
    case settings::Kind::Database: return "database";
  }
  return "text";
}

}  // namespace

settings::Values settings_from_py(const py::dict& d) {
  settings::Values out;
  for (const auto& [k, v] : d) {
    const auto key = py::cast<std::string>(k);
    switch (settings::spec(key).kind) {
      case settings::Kind::Integer: out[key] = py::cast<std::int64_t>(v); break;
      case settings::Kind::Number: out[key] = py::cast<double>(v); break;
      case settings::Kind::Boolean: out[key] = py::cast<bool>(v); break;
      case settings::Kind::Symbols: out[key] = py::cast<std::vector<std::string>>(v); break;
      default: out[key] = py::cast<std::string>(v); break;
    }
  }
  return out;
}

py::object setting_to_py(const settings::Value& v) {
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    return py::tuple(py::cast(*list));
  }
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

void init_settings(py::module_& m) {
  m.def(
      "settings_table",
      [] {
        py::list out;
        for (const auto& s : settings::table()) {
          py::dict d;
          d["key"] = std::string(s.key);
          d["env"] = std::string(s.env);
          d["flag"] = std::string(s.flag);
          d["kind"] = kind_name(s.kind);
          d["default"] = setting_to_py(settings::parse(s, s.fallback, s.key));
          d["default_text"] = std::string(s.fallback);
          d["lo"] = s.lo;
          d["hi"] = s.hi;
          d["lo_open"] = s.lo_open;
          d["unit"] = std::string(s.unit);
          d["help"] = std::string(s.help);
          d["accepted"] = settings::accepted(s);
          d["help_line"] = settings::help_line(s);
          out.append(std::move(d));
        }
        return out;
      },
      "Every setting: key, env, flag, kind, default, range, unit, help (one dict each).");
  m.def(
      "parse_setting",
      [](const std::string& key, const std::string& raw, const std::string& given_as) {
        return setting_to_py(settings::parse(settings::spec(key), raw, given_as));
      },
      py::arg("key"), py::arg("raw"), py::arg("given_as"),
      "Parses text as the setting; InvalidArgumentError names it as given_as.");
  m.def(
      "check_settings",
      [](const py::dict& values) {
        RuntimeOptions r;
        ServerOptions o;
        settings::PythonHost host;
        settings::apply(settings_from_py(values), r, o, host);
        settings::check(r, o);
      },
      py::arg("settings"),
      "Checks resolved settings as the runtime and the server will when they start.");
}

}  // namespace gs::bind
