// goldensignals._core.HistoryReader: reads of a history file, for Runtime.history() and
// Runtime.replay() (the same reads the server answers `history` and `replay` with).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <tuple>
#include <vector>

#include "goldensignals/store/history_reader.hpp"
#include "init.hpp"

namespace py = pybind11;

namespace gs::bind {

namespace {

using Row = std::tuple<std::uint64_t, std::string, std::int64_t, std::string>;

std::vector<Row> rows(std::vector<StoredMessage> in) {
  std::vector<Row> out;
  out.reserve(in.size());
  for (auto& m : in) out.emplace_back(m.seq, std::move(m.type), m.ts_ms, std::move(m.json));
  return out;
}

}  // namespace

void init_history(py::module_& m) {
  py::class_<HistoryReader>(m, "HistoryReader",
                            "Reads of a history file (private; use Runtime.history / replay). "
                            "A missing file, or one with no tables yet, reads as empty.")
      // A writer holds its lock for one commit at a time: 5 s is ample to wait for it.
      .def(py::init([](const std::string& path) {
             return std::make_unique<HistoryReader>(path, std::chrono::seconds(5), true);
           }),
           py::arg("path"))
      .def(
          "latest",
          [](const HistoryReader& r, const std::string& symbol, const std::string& type,
             std::size_t limit, std::uint64_t before) {
            return rows(r.latest(symbol, type, limit, before));
          },
          py::arg("symbol"), py::arg("type"), py::arg("limit"), py::arg("before") = 0,
          py::call_guard<py::gil_scoped_release>(),
          "Newest first: (seq, type, ts_ms, json) of `symbol`'s messages of `type`, seq < "
          "before (0: no bound).")
      .def(
          "window",
          [](const HistoryReader& r, const std::string& symbol, std::int64_t from_ms,
             std::int64_t to_ms, std::size_t limit, bool newest) {
            return rows(r.window(symbol, from_ms, to_ms, limit, newest));
          },
          py::arg("symbol"), py::arg("from_ms"), py::arg("to_ms"), py::arg("limit"),
          py::arg("newest") = false, py::call_guard<py::gil_scoped_release>(),
          "Oldest first: (seq, type, ts_ms, json) of `symbol`'s messages stored in [from_ms, "
          "to_ms]; the oldest `limit`, or with newest the newest `limit`.")
      .def_property_readonly("path", &HistoryReader::path);
}

}  // namespace gs::bind
