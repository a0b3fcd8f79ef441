// gs.Vote: the value a Python agent returns.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "goldensignals/core/types.hpp"
#include "goldensignals/core/validate.hpp"
#include "init.hpp"

namespace py = pybind11;

namespace gs::bind {

void init_types(py::module_& m) {
  py::class_<Vote>(m, "Vote", R"doc(An agent's vote.

Vote(action, confidence, reasoning=(), target_price=None, stop_loss=None)

action is "BUY", "SELL" or "HOLD" (any case); confidence a number in [0, 1]; reasoning
a sequence of short strings a person can read; target_price and stop_loss optional prices > 0.
Raises InvalidArgumentError (a ValueError) for anything else.)doc")
      .def(py::init([](const std::string& action, double confidence,
                       std::vector<std::string> reasoning, std::optional<double> target,
                       std::optional<double> stop) {
             Vote v;
             v.action = parse_action_or_throw(action, "Vote");
             v.confidence = confidence;
             v.reasoning = std::move(reasoning);
             v.target_price = target;
             v.stop_loss = stop;
             validate_vote(v, "Vote");
             return v;
           }),
           py::arg("action"), py::arg("confidence"),
           py::arg("reasoning") = std::vector<std::string>{}, py::arg("target_price") = py::none(),
           py::arg("stop_loss") = py::none())
      .def_property_readonly("action",
                             [](const Vote& v) { return std::string(to_string(v.action)); })
      .def_readonly("confidence", &Vote::confidence)
      .def_property_readonly("reasoning",
                             [](const Vote& v) {
                               const auto& lines = v.reasoning.lines();  // written now if later
                               py::tuple t(lines.size());
                               for (std::size_t i = 0; i < lines.size(); ++i) t[i] = lines[i];
                               return t;
                             })
      .def_readonly("target_price", &Vote::target_price)
      .def_readonly("stop_loss", &Vote::stop_loss)
      .def(
          "__eq__",
          [](const Vote& a, const Vote& b) {
            return a.action == b.action && a.confidence == b.confidence &&
                   a.reasoning == b.reasoning && a.target_price == b.target_price &&
                   a.stop_loss == b.stop_loss;
          },
          py::is_operator())  // NotImplemented (so False) against anything but a Vote
      .def("__hash__",
           [](const Vote& v) {
             return py::hash(py::make_tuple(std::string(to_string(v.action)), v.confidence));
           })
      .def("__repr__", [](const Vote& v) {
        std::string r = "Vote('" + std::string(to_string(v.action)) + "', " + fmt_num(v.confidence);
        if (!v.reasoning.empty())
          r += ", reasoning=" + py::repr(py::cast(v.reasoning.lines())).cast<std::string>();
        if (v.target_price) r += ", target_price=" + fmt_num(*v.target_price);
        if (v.stop_loss) r += ", stop_loss=" + fmt_num(*v.stop_loss);
        return r + ")";
      });
}

}  // namespace gs::bind
