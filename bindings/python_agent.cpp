#include "python_agent.hpp"

#include <cxxabi.h>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>

namespace py = pybind11;

namespace gs::bind {

namespace {

// A read-only float64/int64 view over a snapshot column; the capsule keeps the snapshot alive.
template <typename T>
py::array column_view(const std::shared_ptr<const AgentContext>& ctx, const std::vector<T>& col) {
  auto* keep = new SnapshotPtr(ctx->market);
  py::capsule base(keep, [](void* p) { delete static_cast<SnapshotPtr*>(p); });
  py::array_t<T> arr({static_cast<py::ssize_t>(col.size())}, {static_cast<py::ssize_t>(sizeof(T))},
                     col.data(), base);
  py::detail::array_proxy(arr.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return arr;
}

// Never throws: an exception whose text cannot be had (a lone surrogate, a raising __str__)
// is still reported, by its type.
std::string describe_exception(const py::error_already_set& e) {
  std::string type = "Exception";
  try {
    type = py::str(e.type().attr("__name__")).cast<std::string>();
    return "raised " + type + ": " + py::str(e.value()).cast<std::string>();
  } catch (...) {
    PyErr_Clear();
    return "raised " + type + " (its message could not be read)";
  }
}

// With the GIL held.
bool on_main_thread() {
  try {
    auto threading = py::module_::import("threading");
    return threading.attr("current_thread")().is(threading.attr("main_thread")());
  } catch (py::error_already_set&) {
    PyErr_Clear();
    return false;
  }
}

}  // namespace

AgentOutcome outcome_from_python(py::handle result, const std::string& agent) {
  AgentOutcome out;
  if (result.is_none()) return out;
  if (py::isinstance<Vote>(result)) {
    out.vote = result.cast<Vote>();
    return out;
  }
  out.failed = true;
  out.error = "agent " + agent + " returned " +
              py::str(py::type::of(result).attr("__name__")).cast<std::string>() +
              "; expected goldensignals.Vote or None";
  return out;
}

void bind_context(py::module_& m) {
  py::class_<PyContext>(m, "AgentContext", R"doc(What an agent sees for one analysis.

symbol, price (last trade), analysis_id, time (bar open times, int64 ms since the epoch),
open/high/low/close/volume (read-only float64 NumPy views of the recent bars, oldest first,
no copy), indicators (dict of the current indicator values), len(ctx) (number of bars).)doc")
      .def_property_readonly("symbol", [](const PyContext& c) { return c.ctx->symbol(); })
      .def_property_readonly("price", [](const PyContext& c) { return c.ctx->price(); })
      .def_property_readonly("analysis_id", [](const PyContext& c) { return c.ctx->analysis_id; })
      .def_property_readonly(
          "time", [](const PyContext& c) { return column_view(c.ctx, c.ctx->market->time_ms); })
      .def_property_readonly(
          "open", [](const PyContext& c) { return column_view(c.ctx, c.ctx->market->open); })
      .def_property_readonly(
          "high", [](const PyContext& c) { return column_view(c.ctx, c.ctx->market->high); })
      .def_property_readonly(
          "low", [](const PyContext& c) { return column_view(c.ctx, c.ctx->market->low); })
      .def_property_readonly(
          "close", [](const PyContext& c) { return column_view(c.ctx, c.ctx->market->close); })
      .def_property_readonly(
          "volume", [](const PyContext& c) { return column_view(c.ctx, c.ctx->market->volume); })
      .def_property_readonly("indicators",
                             [](const PyContext& c) {
                               py::dict d;
                               for (const auto& [k, v] : c.ctx->indicators().defined()) {
                                 d[py::str(std::string(k))] = v;
                               }
                               return d;
                             })
      .def("__len__", [](const PyContext& c) { return c.ctx->market->size(); })
      .def("__repr__", [](const PyContext& c) {
        return "AgentContext(symbol='" + c.ctx->symbol() +
               "', price=" + std::to_string(c.ctx->price()) +
               ", bars=" + std::to_string(c.ctx->market->size()) + ")";
      });
}

PythonAgent::PythonAgent(AgentSpec spec, py::object fn, std::shared_ptr<PythonExecutor> exec,
                         py::object aio_submit)
    : Agent(std::move(spec)),
      refs_(new Refs{std::move(fn), std::move(aio_submit)}),
      exec_(std::move(exec)) {}

PythonAgent::~PythonAgent() {
  // The last reference may drop on any thread: hand the Python objects to a Python worker.
  PythonExecutor::Task t{[refs = std::move(refs_)]() mutable { refs.reset(); },
                         PythonExecutor::Clock::time_point::max()};
  if (exec_->submit(std::move(t))) return;
  if (Py_IsInitialized() && PyGILState_Check()) return;  // t dies here, with the GIL held
  new PythonExecutor::Task(std::move(t));  // leak rather than touch Python without the GIL
}

std::optional<Vote> PythonAgent::analyze(const AgentContext& /*ctx*/) const {
  throw std::logic_error("PythonAgent runs through start(), on the Python executor");
}

void PythonAgent::start(std::shared_ptr<const AgentContext> ctx, Deadline deadline,
                        Done done) const {
  using Clock = PythonExecutor::Clock;
  const double timeout_s =
      std::max(0.001, std::chrono::duration<double>(deadline - Clock::now()).count());
  auto refs = refs_;
  const std::string name = spec().name;
  // Inline (a synchronous backtest on the main thread), the agent is where Ctrl-C lands.
  std::shared_ptr<PythonExecutor> inline_exec = exec_->runs_inline() ? exec_ : nullptr;
  auto task = [refs, ctx = std::move(ctx), done, deadline, timeout_s, name,
               inline_exec]() mutable {
    // done() takes C++ locks, so it is always called with the GIL released. The GIL is
    // taken back outside any destructor: during interpreter finalization that ends the thread
    // with a forced unwind, which a destructor could only turn into std::terminate.
    auto finish = [&done](AgentOutcome o) {
      PyThreadState* saved = PyEval_SaveThread();
      done(std::move(o));
      PyEval_RestoreThread(saved);
    };
    if (Clock::now() > deadline) {
      finish(AgentOutcome{std::nullopt, true, "not started: its deadline passed while queued"});
      return;
    }
    try {
      // Called through the C API so that this frame owns the argument: if finalization ends
      // the thread inside the call, the argument is kept, never released without the GIL.
      py::object arg = py::cast(PyContext{ctx});
      PyObject* raw = nullptr;
      try {
        raw = PyObject_CallOneArg(refs->fn.ptr(), arg.ptr());
      } catch (abi::__forced_unwind&) {
        arg.release();
        throw;
      }
      if (raw == nullptr) throw py::error_already_set();
      py::object r = py::reinterpret_steal<py::object>(raw);
      // The common answers first: a failed attribute lookup costs more than the call itself.
      const bool plain = r.is_none() || py::isinstance<Vote>(r);
      if (!plain && (PyCoro_CheckExact(r.ptr()) || py::hasattr(r, "__await__"))) {
        auto cb = py::cpp_function([done, name](py::object fut) {
          AgentOutcome out;
          try {
            out = outcome_from_python(fut.attr("result")(), name);
          } catch (py::error_already_set& e) {
            const bool timed_out = e.matches(PyExc_TimeoutError);
            out = AgentOutcome{std::nullopt, true, timed_out ? "timed out" : describe_exception(e)};
          }
          PyThreadState* saved = PyEval_SaveThread();  // not a destructor: see finish
          done(std::move(out));
          PyEval_RestoreThread(saved);
        });
        refs->aio_submit(r, timeout_s, cb);
        return;
      }
      finish(outcome_from_python(r, name));
    } catch (py::error_already_set& e) {
      // The agent's answer fails, and the run that called it stops (run_feed raises).
      if (inline_exec && e.matches(PyExc_KeyboardInterrupt) && on_main_thread()) {
        inline_exec->note_interrupt();
      }
      finish(AgentOutcome{std::nullopt, true, describe_exception(e)});
    } catch (const std::exception& e) {
      finish(AgentOutcome{std::nullopt, true, std::string("raised: ") + e.what()});
    }
  };
  PythonExecutor::Task t{std::move(task), deadline};
  if (!exec_->submit(std::move(t))) {
    done(AgentOutcome{std::nullopt, true,
                      "the Python executor's queue is full, or it is stopped or interrupted"});
  }
}

}  // namespace gs::bind
