// _core.Runtime: the in-process runtime for goldensignals.Runtime
// (python/goldensignals/runtime.py).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "event_pump.hpp"
#include "event_types.hpp"
#include "goldensignals/agents/analog.hpp"
#include "goldensignals/agents/builtin.hpp"
#include "goldensignals/broadcast/protobuf.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/market/csv.hpp"
#include "goldensignals/runtime/status.hpp"
#include "goldensignals/server/server.hpp"
#include "goldensignals/server/settings.hpp"
#include "init.hpp"
#include "json_py.hpp"
#include "python_agent.hpp"
#include "scoring_py.hpp"
#include "settings_py.hpp"

namespace py = pybind11;

namespace gs::bind {

namespace {

// Seconds given to a binding (an agent's timeout), checked as GS_AGENT_TIMEOUT is.
std::chrono::milliseconds to_ms(double seconds, const std::string& what) {
  return settings::to_ms(settings::check_number(settings::spec("agent_timeout"), seconds, what));
}

std::vector<Bar> bars_from_arrays(const std::string& symbol, const py::array_t<std::int64_t>& ts,
                                  const std::vector<py::array_t<double>>& cols) {
  const auto n = ts.size();
  for (const auto& c : cols) {
    if (c.size() != n) {
      throw InvalidArgument("replay data for " + symbol + ": columns have different lengths (" +
                            std::to_string(n) + " timestamps, " + std::to_string(c.size()) +
                            " values)");
    }
  }
  std::vector<Bar> out(static_cast<std::size_t>(n));
  auto t = ts.unchecked<1>();
  for (py::ssize_t i = 0; i < n; ++i) {
    auto& b = out[static_cast<std::size_t>(i)];
    b.ts_ms = t(i);
    b.open = cols[0].at(i);
    b.high = cols[1].at(i);
    b.low = cols[2].at(i);
    b.close = cols[3].at(i);
    b.volume = cols[4].at(i);
  }
  return out;
}

// Owns the native runtime and the Python-side machinery it needs.
class PyRuntime {
 public:
  // A synchronous runtime calls its Python agents on the thread that runs run_feed() (no
  // executor threads), and its events wait for room in the queue instead of being dropped.
  PyRuntime(RuntimeOptions opts, std::size_t python_workers, std::size_t event_queue,
            py::object dispatch, py::object aio_submit)
      : exec_(PythonExecutor::for_agents(opts.synchronous ? 0 : python_workers)),
        pump_(std::make_shared<EventPump>(std::move(dispatch), event_queue)),
        aio_submit_(std::move(aio_submit)) {
    pump_->set_block_when_full(opts.synchronous);
    rt_ = std::make_shared<Runtime>(std::move(opts), pump_);
    pump_->start();
  }

  ~PyRuntime() {
    py::gil_scoped_release nogil;
    shutdown();
  }

  void shutdown() {
    if (server_) server_->stop();  // clients hear 1001 while the runtime still answers
    rt_->stop();
    exec_->stop();
    pump_->stop();
  }

  Runtime& rt() { return *rt_; }

  // Starts the WebSocket/HTTP server around this runtime; returns the bound port.
  std::uint16_t serve(ServerOptions o) {
    if (server_ && server_->running()) {
      throw StateError("serve: this runtime already serves on port " +
                       std::to_string(server_->port()));
    }
    server_ = std::make_shared<Server>(std::move(o), rt_);
    server_->start();
    return server_->port();
  }
  void stop_server() {
    if (server_) server_->stop();
  }
  Server* server() { return server_.get(); }
  EventPump& pump() { return *pump_; }
  PythonExecutor& executor() { return *exec_; }

  // timeout_s None: the runtime's live-tunable default (rt.orchestrator.agent_timeout).
  void add_python_agent(const std::string& name, py::object fn, double weight,
                        std::optional<double> timeout_s) {
    const auto timeout = timeout_s ? to_ms(*timeout_s, "agent '" + name + "': timeout")
                                   : std::chrono::milliseconds(0);
    AgentSpec spec{name, weight, timeout, AgentKind::Python};
    auto agent = std::make_shared<PythonAgent>(std::move(spec), std::move(fn), exec_, aio_submit_);
    py::gil_scoped_release nogil;
    rt_->orchestrator().add_agent(std::move(agent));
  }

  // rt.status(): the runtime's figures (the same builder as GET /ws/status) plus the
  // Python executor's and the event queue's.
  py::object status() {
    nlohmann::json j;
    PythonExecutor::Stats ex;
    std::size_t queued = 0;
    {
      py::gil_scoped_release nogil;  // never wait for a C++ lock with the GIL held
      j = runtime_status_json(*rt_);
      ex = exec_->stats();
      queued = pump_->queued();
    }
    j["python_executor"] = {{"workers", ex.workers},   {"stuck_workers", ex.stuck},
                            {"queued", ex.queued},     {"executed", ex.executed},
                            {"rejected", ex.rejected}, {"replaced_workers", ex.replaced}};
    j["events"] = {{"queued", queued}, {"dropped", pump_->dropped()}};
    return to_py(j);
  }

 private:
  std::shared_ptr<PythonExecutor> exec_;
  std::shared_ptr<EventPump> pump_;
  py::object aio_submit_;
  std::shared_ptr<Runtime> rt_;
  std::shared_ptr<Server> server_;  // at most one; stopped before the runtime
};

using RuntimeClass = py::class_<PyRuntime>;

// The CSV reader the native server's replay feed uses.
void def_csv_reader(py::module_& m) {
  m.def(
      "read_ohlcv_csv",
      [](const std::string& path) {
        std::map<std::string, std::vector<Bar>> bars;
        {
          py::gil_scoped_release nogil;
          bars = read_ohlcv_csv(path);
        }
        py::dict out;
        for (const auto& [symbol, series] : bars) {
          const auto n = static_cast<py::ssize_t>(series.size());
          py::array_t<std::int64_t> ts(n);
          std::vector<py::array_t<double>> cols;
          for (int k = 0; k < 5; ++k) cols.emplace_back(n);
          auto t = ts.mutable_unchecked<1>();
          for (py::ssize_t i = 0; i < n; ++i) {
            const auto& b = series[static_cast<std::size_t>(i)];
            t(i) = b.ts_ms;
            const double v[5] = {b.open, b.high, b.low, b.close, b.volume};
            for (std::size_t k = 0; k < 5; ++k) cols[k].mutable_at(i) = v[k];
          }
          out[py::str(symbol)] = py::make_tuple(ts, cols[0], cols[1], cols[2], cols[3], cols[4]);
        }
        return out;
      },
      py::arg("path"),
      "OHLCV bars of a CSV file, parsed as goldensignals-server --feed replay:PATH parses "
      "them: {symbol ('' without a symbol column): (ts_ms, open, high, low, close, volume)}.");
}

// Made from resolved settings; started, stopped, and what it reports.
void def_lifecycle(RuntimeClass& cls) {
  cls.def(py::init([](std::vector<std::string> symbols, const py::dict& values,
                       py::object dispatch, py::object aio_submit, const py::dict& scoring,
                       bool synchronous) {
             RuntimeOptions o;
             ServerOptions unused;
             settings::PythonHost host;
             settings::apply(settings_from_py(values), o, unused, host);
             o.symbols = std::move(symbols);
             o.scoring = scoring_from_dict(scoring, o.scoring);
             o.synchronous = synchronous;
             auto r = std::make_unique<PyRuntime>(std::move(o), host.workers, host.event_queue,
                                                  std::move(dispatch), std::move(aio_submit));
             r->rt().orchestrator().set_default_timeout(host.agent_timeout);
             return r;
           }),
           py::kw_only(), py::arg("symbols"), py::arg("settings"), py::arg("dispatch"),
           py::arg("aio_submit"), py::arg("scoring") = py::dict(),
           py::arg("synchronous") = false,
           "settings: every setting by keyword, resolved (goldensignals.settings.resolve).")
      .def(
          "start", [](PyRuntime& r) { r.rt().start(); }, py::call_guard<py::gil_scoped_release>())
      .def("stop", &PyRuntime::shutdown, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("state",
                             [](PyRuntime& r) { return std::string(to_string(r.rt().state())); })
      .def_property_readonly("symbols", [](PyRuntime& r) { return r.rt().symbols(); })
      .def("status", &PyRuntime::status)
      .def(
          "wait_idle", [](PyRuntime& r, const std::string& s) { r.rt().wait_idle(s); },
          py::call_guard<py::gil_scoped_release>());
}

// Where its bars come from: a simulated or replayed feed, or bars and ticks given.
void def_feeds(RuntimeClass& cls) {
  cls.def(
          "set_simulated_feed",
          [](PyRuntime& r, std::uint64_t seed, double drift, double volatility, double interval,
             std::size_t backfill, std::int64_t max_bars, double base_volume,
             std::map<std::string, double> start_prices) {
            SimulatedFeedOptions o;
            o.seed = seed;
            o.drift = drift;
            o.volatility = volatility;
            o.interval_s = interval;
            o.backfill = backfill;
            o.max_bars = max_bars;
            o.base_volume = base_volume;
            for (auto& [s, p] : start_prices) o.start_prices[normalize_symbol(s)] = p;
            r.rt().set_feed(make_simulated_feed(std::move(o)));
          },
          py::kw_only(), py::arg("seed"), py::arg("drift"), py::arg("volatility"),
          py::arg("interval"), py::arg("backfill"), py::arg("max_bars"), py::arg("base_volume"),
          py::arg("start_prices"))
      .def(
          "set_replay_feed",
          [](PyRuntime& r, py::dict data, double speed) {
            ReplayFeedOptions o;
            o.speed = speed;
            for (auto [k, v] : data) {
              auto sym = normalize_symbol(k.cast<std::string>());
              auto t = v.cast<py::tuple>();
              std::vector<py::array_t<double>> cols;
              for (std::size_t i = 1; i < 6; ++i) cols.push_back(t[i].cast<py::array_t<double>>());
              o.bars[sym] = bars_from_arrays(sym, t[0].cast<py::array_t<std::int64_t>>(), cols);
            }
            r.rt().set_feed(make_replay_feed(std::move(o)));
          },
          py::arg("data"), py::arg("speed"))
      .def(
          "publish_tick",
          [](PyRuntime& r, const std::string& symbol, double price, double volume,
             std::int64_t ts) { r.rt().publish_tick(symbol, price, volume, ts); },
          py::arg("symbol"), py::arg("price"), py::arg("volume"), py::arg("ts_ms"),
          py::call_guard<py::gil_scoped_release>())
      .def(
          "publish_bar",
          [](PyRuntime& r, const std::string& symbol, std::int64_t ts, double o, double h, double l,
             double c, double v) {
            r.rt().publish_bar(symbol, Bar{ts, o, h, l, c, v});
          },
          py::arg("symbol"), py::arg("ts_ms"), py::arg("open"), py::arg("high"), py::arg("low"),
          py::arg("close"), py::arg("volume"), py::call_guard<py::gil_scoped_release>())
      .def(
          "wait_feed",
          [](PyRuntime& r, double timeout_s) {
            const auto ms = std::llround(std::clamp(timeout_s, 0.0, 1e6) * 1000.0);
            return r.rt().wait_feed(std::chrono::milliseconds(ms));
          },
          py::arg("timeout"), py::call_guard<py::gil_scoped_release>())
      .def(
          "run_feed",
          [](PyRuntime& r, const py::object& progress) {
            // Runs on this (Python) thread without the GIL; Python agents take it per call.
            // progress(bars) and Ctrl-C are looked at every 0.1 s; an exception from either
            // stops the run and is raised here.
            // Ctrl-C that landed in an inline Python agent, raised here as KeyboardInterrupt.
            const auto raise_interrupt = [&r] {
              if (r.executor().take_interrupt()) {
                PyErr_SetNone(PyExc_KeyboardInterrupt);
                throw py::error_already_set();
              }
            };
            std::optional<py::error_already_set> raised;
            bool complete = false;
            {
              py::gil_scoped_release nogil;
              complete = r.rt().run_feed([&](std::uint64_t bars) {
                py::gil_scoped_acquire gil;
                try {
                  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
                  raise_interrupt();
                  if (!progress.is_none()) progress(bars);
                  return true;
                } catch (py::error_already_set& e) {
                  raised.emplace(std::move(e));
                  return false;
                }
              });
            }
            if (raised) throw std::move(*raised);
            raise_interrupt();  // in the last bars, after the last check
            return complete;
          },
          py::arg("progress") = py::none(),
          "Synchronous runtimes: runs the feed to its end on this thread; true when complete.")
      .def("bars_ingested", [](PyRuntime& r) { return r.rt().bars_ingested(); });
}

// The panel: built-in, native and Python agents, their timeout, the consensus policy.
void def_agents(RuntimeClass& cls) {
  cls.def(
          "add_builtin_agents",
          [](PyRuntime& r, const std::vector<std::string>& names) {
            auto agents = make_builtin_agents(names);
            py::gil_scoped_release nogil;
            for (auto& a : agents) r.rt().orchestrator().add_agent(std::move(a));
          },
          py::arg("names"))
      .def(
          "add_native_agent",
          [](PyRuntime& r, std::shared_ptr<Analog> a) {
            py::gil_scoped_release nogil;
            r.rt().orchestrator().add_agent(std::move(a));
          },
          py::arg("agent"))
      .def("add_python_agent", &PyRuntime::add_python_agent, py::arg("name"), py::arg("fn"),
           py::arg("weight"), py::arg("timeout"))
      .def(
          "remove_agent",
          [](PyRuntime& r, const std::string& name) {
            return r.rt().orchestrator().remove_agent(name);
          },
          py::call_guard<py::gil_scoped_release>())
      .def(
          "agent_names",
          [](PyRuntime& r) {
            std::vector<std::string> out;
            for (const auto& a : r.rt().orchestrator().agents()) out.push_back(a->name());
            return out;
          },
          py::call_guard<py::gil_scoped_release>())
      .def(
          "set_default_timeout",
          [](PyRuntime& r, double seconds) {
            r.rt().orchestrator().set_default_timeout(to_ms(seconds, "agent_timeout"));
          },
          py::arg("seconds"))
      .def(
          "context",
          [](PyRuntime& r, const std::string& symbol) -> py::object {
            SnapshotPtr snap;
            {
              py::gil_scoped_release nogil;
              snap = r.rt().snapshot(symbol);
            }
            if (!snap) return py::none();
            return py::cast(PyContext{std::make_shared<AgentContext>(AgentContext{snap, ""})});
          },
          py::arg("symbol"))
      .def("get_policy",
           [](PyRuntime& r) {
             ConsensusPolicy p;
             {
               py::gil_scoped_release nogil;
               p = r.rt().orchestrator().policy();
             }
             py::dict d;
             d["min_confidence"] = p.min_confidence;
             d["threshold"] = p.threshold;
             d["min_agents"] = p.min_agents;
             return d;
           })
      .def(
          "set_policy",
          [](PyRuntime& r, std::optional<double> min_confidence, std::optional<double> threshold,
             std::optional<int> min_agents) {
            py::gil_scoped_release nogil;
            auto p = r.rt().orchestrator().policy();
            if (min_confidence) p.min_confidence = *min_confidence;
            if (threshold) p.threshold = *threshold;
            if (min_agents) p.min_agents = *min_agents;
            r.rt().orchestrator().set_policy(p);
          },
          py::kw_only(), py::arg("min_confidence") = py::none(), py::arg("threshold") = py::none(),
          py::arg("min_agents") = py::none());
}

// Which events reach Python.
void def_events(RuntimeClass& cls) {
  cls.def(
          "set_log_level", [](PyRuntime& r, int level) { r.pump().set_log_level(level); },
          py::arg("level"))
      .def(
          "set_event_kinds",
          [](PyRuntime& r, const std::vector<std::string>& kinds) {
            unsigned mask = 0;
            for (const auto& k : kinds) {
              if (k == "agent_update") {
                mask |= EventPump::kAgentUpdate;
              } else if (k == "decision") {
                mask |= EventPump::kDecision;
              } else if (k == "price_update") {
                mask |= EventPump::kPriceUpdate;
              } else {
                throw InvalidArgument("set_event_kinds: kind '" + k +
                                      "' is not known; expected agent_update, decision or "
                                      "price_update");
              }
            }
            r.pump().set_wanted(mask);
          },
          py::arg("kinds"), "Event kinds delivered to Python (alerts and logs always are).");
}

// Analyses on request, and the live scores of their signals.
void def_analysis(RuntimeClass& cls) {
  cls.def(
          "analyze",
          [](PyRuntime& r, const std::string& symbol, std::optional<double> timeout_s) {
            if (timeout_s && (!std::isfinite(*timeout_s) || *timeout_s <= 0)) {
              throw InvalidArgument("analyze: timeout " + fmt_num(*timeout_s) +
                                    " is not accepted; expected seconds > 0, or None to wait "
                                    "until the analysis ends");
            }
            std::shared_future<DecisionPtr> fut;
            {
              py::gil_scoped_release nogil;
              fut = r.rt().analyze(symbol);
              if (!timeout_s) {
                fut.wait();  // the agents' deadlines bound it
              } else if (fut.wait_for(std::chrono::duration<double>(std::min(*timeout_s, 1e9))) !=
                         std::future_status::ready) {
                throw TimeoutError("analysis of " + symbol + " did not finish within " +
                                   fmt_num(*timeout_s) + " s");
              }
            }
            return PyDecision{fut.get()};
          },
          py::arg("symbol"), py::arg("timeout"))
      .def("take_scored",
           [](PyRuntime& r) {
             auto* s = r.rt().scorer();
             std::vector<ScoredForecast> rows;
             if (s) {
               py::gil_scoped_release nogil;
               rows = s->take_scored();
             }
             return scored_columns(rows);
           })
      .def("scores",
           [](PyRuntime& r) -> py::object {
             auto* s = r.rt().scorer();
             if (!s) return py::none();
             nlohmann::json j;
             {
               py::gil_scoped_release nogil;
               j = scores_json(*s);
             }
             return to_py(j);
           });
}

// The WebSocket/HTTP server of this runtime.
void def_server(RuntimeClass& cls) {
  cls.def(
          "serve",
          [](PyRuntime& r, const py::dict& values, std::string web_root) {
            RuntimeOptions unused;
            ServerOptions o;
            settings::PythonHost host;
            settings::apply(settings_from_py(values), unused, o, host);
            o.web_root = std::move(web_root);
            py::gil_scoped_release nogil;
            return r.serve(std::move(o));
          },
          py::kw_only(), py::arg("settings"), py::arg("web_root") = "",
          "Serves with every setting by keyword, resolved; returns the bound port.")
      .def("stop_server", &PyRuntime::stop_server, py::call_guard<py::gil_scoped_release>())
      .def("server_status",
           [](PyRuntime& r) -> py::object {
             if (!r.server()) return py::none();
             nlohmann::json j;
             {
               py::gil_scoped_release nogil;
               j = r.server()->status();
             }
             return to_py(j);
           })
      .def("server_metrics",
           [](PyRuntime& r) -> py::object {
             if (!r.server()) return py::none();
             std::string text;
             {
               py::gil_scoped_release nogil;
               text = r.server()->metrics();
             }
             return py::str(text);
           });
}

}  // namespace

void init_runtime(py::module_& m) {
  bind_context(m);
  def_csv_reader(m);
  bind_event_types(m);
  m.def("builtin_agent_names", &builtin_agent_names, "Names of the built-in native agents.");
  m.def(
      "protobuf_descriptor_set",
      [] {
        const auto set = pb::descriptor_set();
        return py::bytes(set.data(), set.size());
      },
      "The schema of ?format=protobuf, proto/goldensignals.proto, as a serialized "
      "FileDescriptorSet (with the files it imports), as this build compiled it in.");

  RuntimeClass c(m, "Runtime", "Native runtime (private; use goldensignals.Runtime).");
  def_lifecycle(c);
  def_feeds(c);
  def_agents(c);
  def_events(c);
  def_analysis(c);
  def_server(c);
}

}  // namespace gs::bind
