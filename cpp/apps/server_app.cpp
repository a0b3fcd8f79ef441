#include "server_app.hpp"

#include <dlfcn.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "goldensignals/agents/builtin.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/thread_name.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/market/csv.hpp"

namespace gs::app {

namespace {

// Logs what the runtime reports: decisions at info, votes at debug, alerts as warnings.
class LogSink final : public RuntimeSink {
 public:
  void on_agent_update(const AgentUpdate& u) override {
    if (u.signal == AgentSignal::Processing || u.signal == AgentSignal::Analyzing) return;
    if (!spdlog::should_log(spdlog::level::debug)) return;  // leaves the reasoning unwritten
    spdlog::debug("{} {} {} {:.2f} ({:.3f} ms){}", u.symbol, u.agent, to_string(u.signal),
                  u.confidence, u.latency_ms,
                  u.reasoning.empty() ? "" : " " + u.reasoning.front());
  }
  void on_decision(const DecisionPtr& d) override {
    if (d->has_signal()) {
      spdlog::info("signal {} {} confidence {:.2f} agreement {:.2f} at {:.2f} [{}]", d->symbol,
                   d->consensus.action_name(), d->consensus.confidence, d->consensus.agreement,
                   d->price, to_string(d->trigger));
    } else {
      spdlog::info("no signal {}: {} [{}]", d->symbol, d->consensus.reason,
                   to_string(d->trigger));
    }
  }
  void on_alert(const Alert& a) override { spdlog::warn("alert {}: {}", a.code, a.message); }
  void on_price_update(const PriceUpdate&) override {}
  void on_log(int level, const std::string& logger, const std::string& message) override {
    spdlog::log(level >= 40   ? spdlog::level::err
                : level >= 30 ? spdlog::level::warn
                : level >= 20 ? spdlog::level::info
                              : spdlog::level::debug,
                "{}: {}", logger, message);
  }
  [[nodiscard]] int log_level() const override {
    return spdlog::get_level() <= spdlog::level::debug ? 10 : 20;
  }
};

// Python agents come from a plugin that embeds the interpreter: without --agents, this
// binary never loads Python.
using LoadAgents = int (*)(Runtime*, const char* spec, std::size_t workers, char* err,
                          std::size_t errlen);

// The plugin needs the libpython of the Python it was built for, which is often not on the
// loader's path (pyenv, a venv over a Python of its own). An installed Python keeps it in
// <prefix>/lib; a venv names its base Python in pyvenv.cfg ("home = <base prefix>/bin").
// Loaded first, it satisfies the plugin's dependency; without it the loader searches as usual.
void preload_libpython(const std::filesystem::path& plugin) {
  namespace fs = std::filesystem;
  const std::string name = "libpython" GS_PYTHON_VERSION ".so.1.0";
  std::vector<fs::path> dirs;
  if (const char* d = std::getenv("GS_PYTHON_LIBDIR"); d && *d) dirs.emplace_back(d);
  // <prefix>/lib/pythonX.Y/site-packages/goldensignals/libgoldensignals_pyhost.so
  fs::path prefix = fs::weakly_canonical(plugin);
  for (int i = 0; i < 5; ++i) prefix = prefix.parent_path();
  std::ifstream cfg(prefix / "pyvenv.cfg");
  for (std::string line; std::getline(cfg, line);) {
    const auto eq = line.find('=');
    if (line.rfind("home", 0) != 0 || eq == std::string::npos) continue;
    std::string home = line.substr(eq + 1);
    home.erase(0, home.find_first_not_of(" \t"));
    home.erase(home.find_last_not_of(" \t\r") + 1);
    dirs.push_back(fs::path(home).parent_path() / "lib");
  }
  dirs.push_back(prefix / "lib");
  for (const auto& d : dirs) {
    const auto lib = d / name;
    if (fs::exists(lib) && dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) return;
  }
}

void load_python_agents(Runtime& rt, const std::vector<std::string>& specs,
                        std::size_t workers, const std::string& plugin_hint, const char* argv0) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (!plugin_hint.empty()) candidates.emplace_back(plugin_hint);
  const fs::path self = fs::weakly_canonical(fs::path(argv0)).parent_path();
  candidates.push_back(self / "libgoldensignals_pyhost.so");
  candidates.push_back(self / ".." / "lib" / ("python" GS_PYTHON_VERSION) / "site-packages" /
                       "goldensignals" / "libgoldensignals_pyhost.so");
  // A wheel repaired by auditwheel keeps the binary in site-packages/goldensignals.scripts.
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) candidates.push_back(exe / ".." / "goldensignals" / "libgoldensignals_pyhost.so");
  void* handle = nullptr;
  std::string tried;
  for (const auto& c : candidates) {
    tried += "\n  " + c.string();
    if (!fs::exists(c)) continue;
    preload_libpython(c);
    if ((handle = dlopen(c.c_str(), RTLD_NOW | RTLD_GLOBAL)) != nullptr) break;
    tried += std::string(" (") + dlerror() + ")";
  }
  if (!handle) {
    throw InvalidArgument(
        "--agents needs the Python host plugin libgoldensignals_pyhost.so; "
        "tried:" +
        tried +
        "\n(set GS_PYHOST_PLUGIN to its path, and GS_PYTHON_LIBDIR to the directory of "
        "libpython" GS_PYTHON_VERSION ".so.1.0 if that is what is missing)");
  }
  auto load = reinterpret_cast<LoadAgents>(dlsym(handle, "gs_load_python_agents"));
  if (!load) throw Error("the Python host plugin has no gs_load_python_agents");
  for (const auto& spec : specs) {
    char err[1024] = {0};
    if (load(&rt, spec.c_str(), workers, err, sizeof(err)) != 0) {
      const std::string why(err);  // goldensignals.agents names the spec itself
      throw InvalidArgument(why.rfind("--agents ", 0) == 0 ? why : "--agents " + spec + ": " + why);
    }
    spdlog::info("loaded Python agent(s) from {} ({} Python workers)", spec, workers);
  }
}

// The dashboard installed with the package (bin/../lib/pythonX.Y/site-packages/goldensignals/
// web), else the built-in page.
std::string find_web_root(const char* argv0) {
  namespace fs = std::filesystem;
  const fs::path self = fs::weakly_canonical(fs::path(argv0)).parent_path();
  const fs::path web = self / ".." / "lib" / ("python" GS_PYTHON_VERSION) / "site-packages" /
                       "goldensignals" / "web";
  std::error_code ec;
  return fs::is_directory(web, ec) ? fs::weakly_canonical(web).string() : std::string();
}

}  // namespace

CommandLine::CommandLine(CLI::App& app, Launch& launch) {
  app.set_version_flag("--version", GS_VERSION);
  auto* group = app.add_option_group("settings", "runtime and server settings (docs/operations.md)");
  for (const auto& s : settings::table()) {
    auto& target = text_[std::string(s.key)];
    const std::string flag(s.flag);
    const bool is_flag = s.kind == settings::Kind::Boolean;  // --store-prices[=false]
    auto* opt = is_flag ? group->add_flag(flag + "{true}", target, settings::help_line(s))
                        : group->add_option(flag, target, settings::help_line(s))
                              ->expected(0, 1);  // "--symbols=" is a value, refused as such
    opt->type_name(is_flag                               ? "[=BOOL]"
                   : s.kind == settings::Kind::Integer ? "INT"
                   : s.kind == settings::Kind::Number  ? "NUMBER"
                                                       : "TEXT");
    option_[std::string(s.key)] = opt;
  }
  app.add_flag("--check-config", launch.check_config,
               "check every setting and exit: 0 and one line when all are accepted, else 2 "
               "naming the first refused one");
  app.add_option("--web-root", launch.web_root,
                 "directory of the dashboard's static files (default: the installed package's)")
      ->envname("GS_WEB_ROOT");
  app.add_option("--feed", launch.feed,
                 "simulated, or replay:PATH.csv (date,open,high,low,close,volume)")
      ->envname("GS_FEED")
      ->capture_default_str();
  app.add_option("--seed", launch.seed, "simulation seed")
      ->envname("GS_SEED")
      ->capture_default_str();
  app.add_option("--interval", launch.interval, "seconds between simulated bars")
      ->envname("GS_INTERVAL")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--speed", launch.speed, "replay speed, a multiple of real time (0: flat out)")
      ->envname("GS_REPLAY_SPEED")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--agents", launch.agents,
                 "a native agent's name (Analog, or a built-in) or a Python agent as "
                 "module:object (repeatable; module:object loads Python)");
  app.add_option("--python-agents", launch.agents_csv, "comma-separated module:object list")
      ->envname("GS_AGENTS");
  app.add_option("--pyhost-plugin", launch.plugin, "path of libgoldensignals_pyhost.so")
      ->envname("GS_PYHOST_PLUGIN");
  app.add_flag("--no-builtin-agents", launch.no_builtin, "do not add the native agents");
  app.add_option("--log-level", launch.level, "trace, debug, info, warn, error")
      ->envname("GS_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
}

CommandLine::Resolved CommandLine::resolve() const {
  std::map<std::string, settings::Given, std::less<>> given;
  for (const auto& s : settings::table()) {
    const std::string key(s.key);
    if (option_.at(key)->count() > 0) given[key] = {text_.at(key), std::string(s.flag)};
  }
  Resolved r;
  settings::apply(settings::resolve(given, settings::process_env), r.runtime, r.server,
                  r.python);
  settings::check(r.runtime, r.server);
  return r;
}

void init_logging(const std::string& level) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("goldensignals"));
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
}

std::unique_ptr<Feed> make_feed(const Launch& launch, RuntimeOptions& ro) {
  if (launch.feed == "simulated") {
    SimulatedFeedOptions fo;
    fo.seed = launch.seed;
    fo.interval_s = launch.interval;
    return make_simulated_feed(fo);
  }
  if (launch.feed.rfind("replay:", 0) == 0) {
    ReplayFeedOptions fo;
    fo.speed = launch.speed;
    for (auto& [sym, series] : read_ohlcv_csv(launch.feed.substr(7))) {
      const auto name = sym.empty() ? normalize_symbol(ro.symbols.at(0)) : sym;
      fo.bars[name] = std::move(series);
      if (std::find(ro.symbols.begin(), ro.symbols.end(), name) == ro.symbols.end()) {
        ro.symbols.push_back(name);
      }
    }
    return make_replay_feed(std::move(fo));
  }
  throw InvalidArgument("--feed '" + launch.feed +
                        "' is not accepted; expected simulated or replay:PATH");
}

std::shared_ptr<Runtime> make_runtime(const Launch& launch, CommandLine::Resolved& s,
                                      const char* argv0) {
  auto feed = make_feed(launch, s.runtime);
  auto rt = std::make_shared<Runtime>(s.runtime, std::make_shared<LogSink>());
  if (!launch.no_builtin) {
    for (auto& a : make_builtin_agents()) rt->orchestrator().add_agent(std::move(a));
  }
  std::vector<std::string> specs = launch.agents;
  std::stringstream csv(launch.agents_csv);
  for (std::string one; std::getline(csv, one, ',');) {
    if (!one.empty()) specs.push_back(one);
  }
  // A native agent's name (a built-in, or Analog) is made here; module:object is Python.
  std::vector<std::string> native, python;
  for (const auto& one : specs) {
    (one.find(':') == std::string::npos ? native : python).push_back(one);
  }
  if (!native.empty()) {
    for (auto& a : make_builtin_agents(native)) rt->orchestrator().add_agent(std::move(a));
  }
  rt->orchestrator().set_default_timeout(s.python.agent_timeout);
  if (!python.empty()) load_python_agents(*rt, python, s.python.workers, launch.plugin, argv0);
  rt->set_feed(std::move(feed));
  return rt;
}

namespace {

// Serves until SIGINT or SIGTERM (taken by sigwait on this thread; every other thread,
// started after the mask is set, inherits it), with `alongside` on a thread of its own.
void serve(CommandLine::Resolved& s, const Launch& launch, const char* argv0,
           const Alongside& alongside) {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  auto rt = make_runtime(launch, s, argv0);
  auto& so = s.server;
  so.web_root = launch.web_root.empty() ? find_web_root(argv0) : launch.web_root;
  Server server(so, rt);
  server.start();
  rt->start();
  spdlog::info(
      "goldensignals-server {} on http://{}:{}/ (WebSocket ws://{}:{}/ws/signals), {} "
      "symbols, {} agents, feed {}",
      GS_VERSION, so.host, server.port(), so.host, server.port(), rt->symbols().size(),
      rt->orchestrator().agents().size(), rt->feed_description());
  std::atomic<bool> stop{false};
  std::thread beside;
  if (alongside) beside = std::thread([&] { alongside(server, stop); });
  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {}: closing clients with 1001 and stopping", sig);
  stop.store(true);
  if (beside.joinable()) beside.join();
  server.stop();
  rt->stop();
  spdlog::info("stopped");
}

}  // namespace

int run(const char* name, const CommandLine& cli, const Launch& launch, const char* argv0,
        const Alongside& alongside) {
  init_logging(launch.level);
  try {
    auto s = cli.resolve();
    if (launch.check_config) {
      std::cout << name << ": every setting is accepted\n";
      return 0;
    }
    serve(s, launch, argv0, alongside);
    return 0;
  } catch (const Error& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace gs::app
