// goldensignals._core: the backtest report's native kernels (python/goldensignals/evaluation).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/evaluation/baselines.hpp"
#include "init.hpp"
#include "numpy_view.hpp"

namespace py = pybind11;

namespace gs::bind {
namespace {

template <class T>
using Arr = NumpyIn<T>;

constexpr const char* kFn = "random_trade_sharpes";

}  // namespace

void init_evaluation(py::module_& m) {
  m.def(
      "random_trade_sharpes",
      [](const py::list& symbols, const Arr<std::int64_t>& lengths, double buy_share,
         double cost, double periods_per_year, std::int64_t draws, std::int64_t seed,
         std::int64_t times) {
        const std::array<std::pair<const char*, std::int64_t>, 3> counts{
            {{"draws", draws}, {"seed", seed}, {"times", times}}};
        for (const auto& [name, value] : counts) {
          if (value < 0) {
            throw InvalidArgument(std::string("random_trade_sharpes: ") + name + " " +
                                  std::to_string(value) + " is not accepted; expected >= 0");
          }
        }
        // Keeps the converted arrays alive while the GIL is released.
        std::vector<Arr<double>> cc, oc;
        std::vector<Arr<std::int64_t>> slot;
        std::vector<BaselineSymbol> syms;
        for (std::size_t i = 0; i < symbols.size(); ++i) {
          auto t = symbols[i].cast<py::tuple>();
          if (t.size() != 4) {
            throw InvalidArgument("random_trade_sharpes: symbol " + std::to_string(i) +
                                  " must be (close_to_close, open_to_close, slot, trades); "
                                  "got " + std::to_string(t.size()) + " items");
          }
          cc.push_back(t[0].cast<Arr<double>>());
          oc.push_back(t[1].cast<Arr<double>>());
          slot.push_back(t[2].cast<Arr<std::int64_t>>());
          const auto n = std::to_string(i);
          const auto trades = t[3].cast<std::int64_t>();
          if (trades < 0) {
            throw InvalidArgument("random_trade_sharpes: trades " + std::to_string(trades) +
                                  " of symbol " + n + " is not accepted; expected >= 0");
          }
          syms.push_back({view(cc.back(), kFn, "close_to_close of symbol " + n),
                          view(oc.back(), kFn, "open_to_close of symbol " + n),
                          view(slot.back(), kFn, "slot of symbol " + n),
                          static_cast<std::size_t>(trades)});
        }
        auto len = view(lengths, kFn, "lengths");
        RandomTradeOptions opts{{len.begin(), len.end()}, buy_share,
                                cost, periods_per_year,
                                static_cast<std::size_t>(draws), static_cast<std::uint64_t>(seed),
                                static_cast<std::size_t>(times)};
        std::vector<double> out;
        {
          py::gil_scoped_release nogil;
          out = random_trade_sharpes(syms, opts);
        }
        return Arr<double>(static_cast<py::ssize_t>(out.size()), out.data());
      },
      py::arg("symbols"), py::arg("lengths"), py::arg("buy_share"), py::arg("cost"),
      py::arg("periods_per_year"), py::arg("draws"), py::arg("seed"), py::arg("times"),
      "Sharpe ratio of each of `draws` draws of random trades (gs::random_trade_sharpes); "
      "symbols: [(close_to_close, open_to_close, slot, trades)], slot: each bar's index in the "
      "portfolio's `times` (unused for one symbol).");
}

}  // namespace gs::bind
