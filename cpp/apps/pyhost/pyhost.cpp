// libgoldensignals_pyhost: loaded by goldensignals-server only for --agents. It embeds the
// interpreter, imports the goldensignals package (whose _core registers the Python types this
// plugin shares through pybind11's internals) and registers Python agents with the runtime.
#include <dlfcn.h>
#include <pybind11/embed.h>

#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/settings.hpp"
#include "python_agent.hpp"
#include "python_executor.hpp"

namespace py = pybind11;

namespace {

// An address inside this plugin, for dladdr: where the plugin is installed.
void gs_pyhost_anchor() {}

struct Host {
  std::shared_ptr<gs::bind::PythonExecutor> exec;
  py::object aio_submit;
};

// The interpreter lives until the process ends; the GIL is released between calls.
// The first call starts it with `workers` Python threads (GS_PYTHON_WORKERS); later calls
// get the same host.
Host& host(std::size_t workers) {
  static Host* h = [workers] {
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;  // the server owns SIGINT/SIGTERM
    // Let Python find the environment this plugin is installed in (and its goldensignals) as
    // if its `bin/python` had started, through the pyvenv.cfg beside it. That is the server's
    // own bin/ (a CMake or pip install puts the server there) or, from a wheel repaired by
    // auditwheel (the server in site-packages/goldensignals.scripts/), the bin/ of the prefix
    // above this plugin: <prefix>/lib/pythonX.Y/site-packages/goldensignals/<plugin>.
    namespace fs = std::filesystem;
    std::vector<fs::path> pythons;
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) pythons.push_back(self.parent_path() / "python");
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&gs_pyhost_anchor), &info) != 0 && info.dli_fname != nullptr) {
      fs::path prefix = fs::weakly_canonical(info.dli_fname, ec);
      for (int i = 0; i < 5; ++i) prefix = prefix.parent_path();
      pythons.push_back(prefix / "bin" / "python");
    }
    for (const auto& python : pythons) {
      if (fs::exists(python, ec)) {
        PyConfig_SetBytesString(&config, &config.program_name, python.c_str());
        break;
      }
    }
    py::initialize_interpreter(&config, 0, nullptr, false);
    PyConfig_Clear(&config);
    auto* made = new Host;
    {
      auto loop = py::module_::import("goldensignals._aio").attr("LoopThread")();
      made->aio_submit = loop.attr("submit");
      loop.release();  // kept for the process's life
    }
    PyEval_SaveThread();
    made->exec = gs::bind::PythonExecutor::for_agents(workers);
    return made;
  }();
  return *h;
}

// The spec is resolved by goldensignals.agents.python_agent, the same as `goldensignals serve
// --agents` resolves it: a gs.Agent (subclass or instance) or a callable.
std::shared_ptr<gs::Agent> make_agent(Host& h, const std::string& spec) {
  py::gil_scoped_acquire gil;
  py::tuple t;
  try {
    t = py::module_::import("goldensignals.agents").attr("python_agent")(spec).cast<py::tuple>();
  } catch (py::error_already_set& e) {
    throw gs::InvalidArgument(py::str(e.value()).cast<std::string>());  // the message alone
  }
  const auto name = t[0].cast<std::string>();
  const auto weight = t[1].cast<double>();
  const auto timeout =
      t[2].is_none() ? std::chrono::milliseconds(0) : gs::settings::to_ms(t[2].cast<double>());
  gs::AgentSpec s{name, weight, timeout, gs::AgentKind::Python};
  return std::make_shared<gs::bind::PythonAgent>(std::move(s), t[3], h.exec, h.aio_submit);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int gs_load_python_agents(gs::Runtime* rt,
                                                                            const char* spec,
                                                                            std::size_t workers,
                                                                            char* err,
                                                                            std::size_t errlen) {
  try {
    auto agent = make_agent(host(workers), spec);
    rt->orchestrator().add_agent(std::move(agent));
    return 0;
  } catch (const std::exception& e) {
    std::snprintf(err, errlen, "%s", e.what());
    return 1;
  }
}
