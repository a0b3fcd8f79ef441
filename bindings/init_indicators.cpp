// goldensignals._core.indicators: the batch indicators over NumPy arrays. The public, TA-Lib
// shaped API (names, defaults, pandas input) is python/goldensignals/indicators.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/indicators/batch.hpp"
#include "init.hpp"
#include "numpy_view.hpp"

namespace py = pybind11;

namespace gs::bind {
namespace {

using Arr = NumpyIn<double>;

// Hands the vector's buffer to NumPy without a copy; the capsule frees it.
py::array_t<double> to_numpy(std::vector<double>&& v) {
  auto* owned = new std::vector<double>(std::move(v));
  py::capsule free_it(owned, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  return py::array_t<double>(static_cast<py::ssize_t>(owned->size()), owned->data(), free_it);
}

// Runs f with the GIL released, then converts its vector result.
template <class F>
py::array_t<double> compute(F&& f) {
  std::vector<double> out;
  {
    py::gil_scoped_release release;
    out = f();
  }
  return to_numpy(std::move(out));
}

}  // namespace

void init_indicators(py::module_& m) {
  // Batch indicators as ind_<name> (private; goldensignals.indicators is the public face).

  m.def(
      "ind_sma",
      [](const Arr& x, int period) {
        auto s = view(x, "sma", "real");
        return compute([&] { return gs::ind::sma(s, period); });
      },
      py::arg("real"), py::arg("timeperiod"));
  m.def(
      "ind_ema",
      [](const Arr& x, int period) {
        auto s = view(x, "ema", "real");
        return compute([&] { return gs::ind::ema(s, period); });
      },
      py::arg("real"), py::arg("timeperiod"));
  m.def(
      "ind_rsi",
      [](const Arr& x, int period) {
        auto s = view(x, "rsi", "real");
        return compute([&] { return gs::ind::rsi(s, period); });
      },
      py::arg("real"), py::arg("timeperiod"));
  m.def(
      "ind_roc",
      [](const Arr& x, int period) {
        auto s = view(x, "roc", "real");
        return compute([&] { return gs::ind::roc(s, period); });
      },
      py::arg("real"), py::arg("timeperiod"));
  m.def(
      "ind_macd",
      [](const Arr& x, int fast, int slow, int signal) {
        auto s = view(x, "macd", "real");
        gs::ind::MacdSeries r;
        {
          py::gil_scoped_release release;
          r = gs::ind::macd(s, fast, slow, signal);
        }
        return py::make_tuple(to_numpy(std::move(r.macd)), to_numpy(std::move(r.signal)),
                              to_numpy(std::move(r.hist)));
      },
      py::arg("real"), py::arg("fastperiod"), py::arg("slowperiod"), py::arg("signalperiod"));
  m.def(
      "ind_bbands",
      [](const Arr& x, int period, double up, double dn) {
        auto s = view(x, "bbands", "real");
        gs::ind::BbandsSeries r;
        {
          py::gil_scoped_release release;
          r = gs::ind::bbands(s, period, up, dn);
        }
        return py::make_tuple(to_numpy(std::move(r.upper)), to_numpy(std::move(r.middle)),
                              to_numpy(std::move(r.lower)));
      },
      py::arg("real"), py::arg("timeperiod"), py::arg("nbdevup"), py::arg("nbdevdn"));
  m.def(
      "ind_atr",
      [](const Arr& h, const Arr& l, const Arr& c, int period) {
        auto hs = view(h, "atr", "high");
        auto ls = view(l, "atr", "low");
        auto cs = view(c, "atr", "close");
        return compute([&] { return gs::ind::atr(hs, ls, cs, period); });
      },
      py::arg("high"), py::arg("low"), py::arg("close"), py::arg("timeperiod"));
  m.def(
      "ind_obv",
      [](const Arr& x, const Arr& v) {
        auto xs = view(x, "obv", "real");
        auto vs = view(v, "obv", "volume");
        return compute([&] { return gs::ind::obv(xs, vs); });
      },
      py::arg("real"), py::arg("volume"));
}

}  // namespace gs::bind
