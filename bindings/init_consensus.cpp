// gs.consensus(): the pure consensus engine, for notebooks and tests.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "goldensignals/consensus/consensus.hpp"
#include "goldensignals/consensus/consensus_json.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "init.hpp"
#include "json_py.hpp"

namespace py = pybind11;

namespace gs::bind {
namespace {

// A result keeps its ballots: to_dict() needs them for agent_details.
struct PyConsensus {
  ConsensusResult result;
  std::vector<Ballot> ballots;
};

std::vector<Ballot> ballots_from(const py::dict& votes, const py::object& weights) {
  std::vector<Ballot> ballots;
  ballots.reserve(votes.size());
  for (const auto& [key, value] : votes) {
    if (!py::isinstance<py::str>(key)) {
      throw py::type_error("consensus: agent names must be str, got " +
                           py::repr(key).cast<std::string>());
    }
    Ballot b;
    b.agent = key.cast<std::string>();
    if (value.is_none()) {
      b.status = AgentStatus::Abstain;
    } else if (py::isinstance<Vote>(value)) {
      b.status = AgentStatus::Ok;
      b.vote = value.cast<Vote>();
    } else {
      throw py::type_error("consensus: the vote of agent '" + b.agent +
                           "' must be a Vote or None, got " +
                           py::str(py::type::of(value).attr("__name__")).cast<std::string>());
    }
    ballots.push_back(std::move(b));
  }
  if (weights.is_none()) return ballots;
  if (!py::isinstance<py::dict>(weights)) {
    throw py::type_error("consensus: weights must be a dict {agent_name: float} or None");
  }
  for (const auto& [key, value] : weights.cast<py::dict>()) {
    const std::string name = py::str(key).cast<std::string>();
    auto it = std::find_if(ballots.begin(), ballots.end(),
                           [&](const Ballot& b) { return b.agent == name; });
    if (!py::isinstance<py::str>(key) || it == ballots.end()) {
      throw InvalidArgument("consensus: weights name agent " + py::repr(key).cast<std::string>() +
                            ", which is not among the votes");
    }
    // Any real number (int, float, NumPy scalar); bool and str are mistakes, not weights.
    if (py::isinstance<py::bool_>(value) || py::isinstance<py::str>(value) ||
        !PyNumber_Check(value.ptr())) {
      throw py::type_error("consensus: the weight of agent '" + name + "' must be a number, got " +
                           py::str(py::type::of(value).attr("__name__")).cast<std::string>());
    }
    it->weight = py::float_(py::reinterpret_borrow<py::object>(value)).cast<double>();
  }
  return ballots;
}

double optional_level(const std::optional<double>& x, const char* what, bool allow_zero) {
  if (!x) return std::numeric_limits<double>::quiet_NaN();
  if (!std::isfinite(*x) || *x < 0.0 || (*x == 0.0 && !allow_zero)) {
    throw InvalidArgument(std::string("consensus: ") + what + " " + fmt_num(*x) +
                          " is not accepted; expected a finite number " +
                          (allow_zero ? ">= 0" : "> 0") + " or None");
  }
  return *x;
}

std::string repr(const PyConsensus& c) {
  const ConsensusResult& r = c.result;
  std::string s = "ConsensusResult(action='" + r.action_name() + "'";
  if (r.action) s += ", confidence=" + fmt_num(r.confidence);
  s += ", agreement=" + fmt_num(r.agreement) + ", strength='" + std::string(to_string(r.strength)) +
       "', valid_votes=" + std::to_string(r.valid_votes) + ", quorum=" + std::to_string(r.quorum);
  if (!r.reason.empty()) s += ", reason=" + py::repr(py::str(r.reason)).cast<std::string>();
  return s + ")";
}

}  // namespace

void init_consensus(py::module_& m) {
  using R = PyConsensus;
  py::class_<R>(m, "ConsensusResult", R"doc(The outcome of gs.consensus() over one panel of votes.

action is "BUY", "SELL", "HOLD" or "NO_SIGNAL" (then reason says why); confidence is in
[0, 0.99]; strength is "STRONG", "MODERATE" or "WEAK". to_dict() gives the protocol's
agents_consensus object.)doc")
      .def_property_readonly("action", [](const R& c) { return c.result.action_name(); })
      .def_property_readonly("confidence", [](const R& c) { return c.result.confidence; })
      .def_property_readonly("agreement", [](const R& c) { return c.result.agreement; })
      .def_property_readonly("strength",
                             [](const R& c) { return std::string(to_string(c.result.strength)); })
      .def_property_readonly("quorum", [](const R& c) { return c.result.quorum; })
      .def_property_readonly("total_agents", [](const R& c) { return c.result.total_agents; })
      .def_property_readonly("completed_agents",
                             [](const R& c) { return c.result.completed_agents; })
      .def_property_readonly("valid_votes", [](const R& c) { return c.result.valid_votes; })
      .def_property_readonly("agreeing_agents", [](const R& c) { return c.result.agreeing_agents; })
      .def_property_readonly("reason",
                             [](const R& c) -> std::optional<std::string> {
                               if (c.result.reason.empty()) return std::nullopt;
                               return c.result.reason;
                             })
      .def_property_readonly("faulty_agents", [](const R& c) { return c.result.faulty_agents; })
      .def_property_readonly("reasoning", [](const R& c) { return c.result.reasoning; })
      .def_property_readonly("target_price", [](const R& c) { return c.result.target_price; })
      .def_property_readonly("stop_loss", [](const R& c) { return c.result.stop_loss; })
      .def(
          "to_dict", [](const R& c) { return to_py(agents_consensus_json(c.result, c.ballots)); },
          "The protocol's agents_consensus object (a new dict each call).")
      .def("__repr__", &repr);

  m.def(
      "consensus",
      [](const py::dict& votes, const py::object& weights, double min_confidence, double threshold,
         int min_agents, std::optional<double> price, std::optional<double> atr) {
        ConsensusPolicy policy;
        policy.min_confidence = min_confidence;
        policy.threshold = threshold;
        policy.min_agents = min_agents;
        policy.validate();
        const double p = optional_level(price, "price", false);
        const double a = optional_level(atr, "atr", true);
        R out;
        out.ballots = ballots_from(votes, weights);
        out.result = decide(out.ballots, policy, p, a);
        return out;
      },
      py::arg("votes"), py::arg("weights") = py::none(), py::kw_only(),
      py::arg("min_confidence") = 0.6, py::arg("threshold") = 0.7, py::arg("min_agents") = 3,
      py::arg("price") = py::none(), py::arg("atr") = py::none(),
      "Byzantine-robust consensus over {agent: Vote | None}; see goldensignals.consensus.");
}

}  // namespace gs::bind
