// Native agents with options of their own (the built-ins have none): the Analog agent.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "goldensignals/agents/analog.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "init.hpp"

namespace py = pybind11;

namespace gs::bind {

namespace {

py::list matches(const std::vector<AnalogMatch>& found) {
  py::list out;
  for (const auto& m : found) {
    py::dict d;
    d["symbol"] = m.symbol;
    d["time_ms"] = m.time_ms;
    d["distance"] = m.distance;
    d["forward_return"] = m.forward_return;
    out.append(std::move(d));
  }
  return out;
}

AnalogVector vector_of(const std::vector<double>& f) {
  if (f.size() != kAnalogDims) {
    throw InvalidArgument("Analog features: " + std::to_string(f.size()) +
                          " values given; expected " + std::to_string(kAnalogDims));
  }
  AnalogVector v{};
  for (std::size_t i = 0; i < kAnalogDims; ++i) v[i] = static_cast<float>(f[i]);
  return v;
}

}  // namespace

void init_agents(py::module_& m) {
  py::class_<Analog, std::shared_ptr<Analog>>(m, "AnalogAgent",
                                               "Native Analog agent (private; use gs.agents.Analog).")
      .def(py::init([](std::size_t k, std::size_t horizon, std::size_t min_history,
                       double min_agreement, bool cross_symbol, std::size_t exact_limit,
                       std::size_t max_vectors, bool as_of, bool shuffle_outcomes,
                       std::uint64_t seed, const std::string& name, double weight,
                       double timeout) {
             AnalogOptions o;
             o.k = k;
             o.horizon = horizon;
             o.min_history = min_history;
             o.min_agreement = min_agreement;
             o.cross_symbol = cross_symbol;
             o.exact_limit = exact_limit;
             o.max_vectors = max_vectors;
             o.as_of = as_of;
             o.shuffle_outcomes = shuffle_outcomes;
             o.seed = seed;
             if (name.empty()) throw InvalidArgument("Analog name is empty; give a name");
             if (!(std::isfinite(weight) && weight >= 0)) {
               throw InvalidArgument("Analog weight = " + fmt_num(weight) +
                                     " is not accepted; expected a number >= 0");
             }
             if (!(std::isfinite(timeout) && timeout > 0 && timeout <= 3600)) {
               throw InvalidArgument("Analog timeout = " + fmt_num(timeout) +
                                     " is not accepted; expected 0 < seconds <= 3600");
             }
             AgentSpec spec{name, weight,
                            std::chrono::milliseconds(std::llround(timeout * 1000.0)),
                            AgentKind::Native};
             return std::make_shared<Analog>(o, std::move(spec));
           }),
           py::kw_only(), py::arg("k"), py::arg("horizon"), py::arg("min_history"),
           py::arg("min_agreement"), py::arg("cross_symbol"), py::arg("exact_limit"),
           py::arg("max_vectors"), py::arg("as_of"), py::arg("shuffle_outcomes"), py::arg("seed"),
           py::arg("name"),
           py::arg("weight"), py::arg("timeout"))
      .def_property_readonly("name", [](const Analog& a) { return a.name(); })
      .def_property_readonly("weight", [](const Analog& a) { return a.spec().weight; })
      .def_property_readonly(
          "timeout", [](const Analog& a) { return static_cast<double>(a.spec().timeout.count()) / 1000.0; })
      .def("learn", &Analog::learn, py::arg("symbol"), py::arg("time_ms"), py::arg("close"),
           py::arg("volume"), py::call_guard<py::gil_scoped_release>())
      .def(
          "nearest",
          [](const Analog& a, const std::vector<double>& features, const std::string& symbol,
             std::int64_t as_of_ms) {
            const auto q = vector_of(features);
            std::vector<AnalogMatch> found;
            {
              py::gil_scoped_release nogil;
              found = a.nearest(q, symbol, as_of_ms);
            }
            return matches(found);
          },
          py::arg("features"), py::arg("symbol"), py::arg("as_of_ms"))
      .def("size", &Analog::size);

  m.def(
      "analog_features",
      [](const std::vector<double>& close, const std::vector<double>& volume,
         std::size_t j) -> py::object {
        if (close.size() != volume.size() || j >= close.size()) {
          throw InvalidArgument("analog_features: bar " + std::to_string(j) + " of " +
                                std::to_string(close.size()) + " closes and " +
                                std::to_string(volume.size()) +
                                " volumes; expected equal lengths and a bar inside them");
        }
        auto f = analog_features(close.data(), volume.data(), j);
        if (!f) return py::none();
        return py::cast(std::vector<double>(f->begin(), f->end()));
      },
      py::arg("close"), py::arg("volume"), py::arg("j"),
      "The Analog agent's feature vector of bar j (None within the first 60 bars or when the "
      "last 20 did not move).");
}

}  // namespace gs::bind
