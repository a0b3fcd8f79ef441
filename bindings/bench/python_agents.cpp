// The call overhead of a Python agent (_gs_bench, for bench/python_agents.py; not part of the
// package): n calls of a function through the runtime's real path.
#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "bench.hpp"
#include "goldensignals/market/snapshot.hpp"
#include "python_agent.hpp"
#include "python_executor.hpp"

namespace py = pybind11;

namespace gs::bench_py {

namespace {

using bind::PythonAgent;
using bind::PythonExecutor;

// Python agent call overhead, for bench/python_agents.py: n calls of fn through the real path
// (PythonExecutor task, context object, vote conversion, completion), pipelined.
py::dict python_agent_calls(py::object fn, std::size_t n, std::size_t workers) {
  auto snap = std::make_shared<MarketSnapshot>();
  snap->symbol = "BENCH";
  snap->price = 100.0;
  snap->close.assign(256, 100.0);
  auto ctx = std::make_shared<const AgentContext>(AgentContext{snap, "bench"});
  auto exec = std::make_shared<PythonExecutor>(workers, workers, 10'000, std::chrono::seconds(60));
  AgentSpec spec{"Bench", 1.0, std::chrono::seconds(600), AgentKind::Python};
  auto agent = std::make_shared<PythonAgent>(spec, std::move(fn), exec, py::none());
  std::atomic<std::size_t> done{0}, votes{0};
  double seconds = 0;
  {
    py::gil_scoped_release nogil;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      // The executor queue is bounded: wait for room rather than fail the call.
      while (i - done.load() >= 9'000) std::this_thread::yield();
      agent->start(ctx, std::chrono::steady_clock::now() + std::chrono::seconds(600),
                   [&](AgentOutcome o) {
                     if (o.vote) votes.fetch_add(1);
                     done.fetch_add(1);
                   });
    }
    while (done.load() < n) std::this_thread::yield();
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    agent.reset();
    exec->stop();
  }
  py::dict r;
  r["calls"] = n;
  r["votes"] = votes.load();
  r["seconds"] = seconds;
  return r;
}

}  // namespace

void init_python_agents(py::module_& m) {
  m.def("python_agent_calls", &python_agent_calls, py::arg("fn"), py::arg("n"),
        py::arg("workers") = 1,
        "n calls of fn(ctx) through the real path (PythonExecutor task, context object, vote "
        "conversion, completion), pipelined: {calls, votes, seconds}.");
}

}  // namespace gs::bench_py
