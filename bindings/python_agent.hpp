// A Python callable (sync or async) as an agent: runs on the PythonExecutor, never elsewhere.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>

#include "goldensignals/agents/agent.hpp"
#include "python_executor.hpp"

namespace gs::bind {

// gs.AgentContext: what a Python agent sees. OHLCV are read-only NumPy views, no copy.
struct PyContext {
  std::shared_ptr<const AgentContext> ctx;
};
void bind_context(pybind11::module_& m);

class PythonAgent final : public Agent {
 public:
  // fn(ctx) -> Vote | None, or a coroutine function. aio_submit(coro, timeout_s, callback)
  // runs a coroutine on the executor's event loop and calls callback(concurrent_future).
  PythonAgent(AgentSpec spec, pybind11::object fn, std::shared_ptr<PythonExecutor> exec,
              pybind11::object aio_submit);
  ~PythonAgent() override;

  [[nodiscard]] std::optional<Vote> analyze(const AgentContext& ctx) const override;
  void start(std::shared_ptr<const AgentContext> ctx, Deadline deadline, Done done) const override;

 private:
  // Python references, released on a Python worker (never on a compute thread).
  struct Refs {
    pybind11::object fn;
    pybind11::object aio_submit;
  };
  std::shared_ptr<Refs> refs_;
  std::shared_ptr<PythonExecutor> exec_;
};

// Converts an agent's return value (with the GIL held): Vote, None, or a failure naming it.
AgentOutcome outcome_from_python(pybind11::handle result, const std::string& agent);

}  // namespace gs::bind
