// goldensignals-server: the runtime and its WebSocket/HTTP server as one native binary, for
// production. Every setting is a flag and an environment variable (flag > environment >
// default); Python agents load through an embedded interpreter only with --agents.
#include <dlfcn.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "goldensignals/agents/builtin.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/thread_name.hpp"
#include "goldensignals/market/csv.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/server.hpp"
#include "goldensignals/server/settings.hpp"

namespace {

// Logs what the runtime reports: decisions at info, votes at debug, alerts as warnings.
class LogSink final : public gs::RuntimeSink {
 public:
  void on_agent_update(const gs::AgentUpdate& u) override {
    if (u.signal == "PROCESSING" || u.signal == "ANALYZING") return;
    spdlog::debug("{} {} {} {:.2f} ({:.3f} ms){}", u.symbol, u.agent, u.signal, u.confidence,
                  u.latency_ms, u.reasoning.empty() ? "" : " " + u.reasoning.front());
  }
  void on_decision(const gs::DecisionPtr& d) override {
    if (d->has_signal()) {
      spdlog::info("signal {} {} confidence {:.2f} agreement {:.2f} at {:.2f} [{}]", d->symbol,
                   d->consensus.action_name(), d->consensus.confidence, d->consensus.agreement,
                   d->price, d->trigger);
    } else {
      spdlog::info("no signal {}: {} [{}]", d->symbol, d->consensus.reason, d->trigger);
    }
  }
  void on_alert(const gs::Alert& a) override { spdlog::warn("alert {}: {}", a.code, a.message); }
  void on_price_update(const gs::PriceUpdate&) override {}
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
using LoadAgents = int (*)(gs::Runtime*, const char* spec, std::size_t workers, char* err,
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

void load_python_agents(gs::Runtime& rt, const std::vector<std::string>& specs,
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
    throw gs::InvalidArgument(
        "--agents needs the Python host plugin libgoldensignals_pyhost.so; "
        "tried:" +
        tried +
        "\n(set GS_PYHOST_PLUGIN to its path, and GS_PYTHON_LIBDIR to the directory of "
        "libpython" GS_PYTHON_VERSION ".so.1.0 if that is what is missing)");
  }
  auto load = reinterpret_cast<LoadAgents>(dlsym(handle, "gs_load_python_agents"));
  if (!load) throw gs::Error("the Python host plugin has no gs_load_python_agents");
  for (const auto& spec : specs) {
    char err[1024] = {0};
    if (load(&rt, spec.c_str(), workers, err, sizeof(err)) != 0) {
      const std::string why(err);  // goldensignals.agents names the spec itself
      throw gs::InvalidArgument(why.rfind("--agents ", 0) == 0 ? why : "--agents " + spec + ": " + why);
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

// --bench-*: publishes signal_update messages of about `payload` bytes into rooms BENCH (or
// BENCH0..BENCHn-1) through Server::publish, the runtime's own path, once `subscribers` clients
// have joined them: flat out (rate 0) or at a fixed rate, for `duration` seconds. Every message
// carries "published_ns" (CLOCK_MONOTONIC), so goldensignals-bench can time its delivery.
struct BenchPublisher {
  int rooms = 0;
  std::size_t subscribers = 1;
  double rate = 0;
  double duration_s = 3;
  std::size_t payload = 400;
  std::size_t backlog = 160;  // flat out: unsent messages per subscriber (as the peers: 64 KiB)
  std::uint64_t burst = 32;   // flat out: messages published back to back (as the peers)

  [[nodiscard]] std::string room(int i) const {
    return rooms == 1 ? std::string("BENCH") : "BENCH" + std::to_string(i);
  }

  void run(gs::Server& server, const std::atomic<bool>& stop) const {
    using namespace std::chrono;
    for (;;) {  // wait for every subscriber
      if (stop.load()) return;
      std::size_t joined = 0;
      for (const auto& [sym, n] : server.stats().rooms) {
        if (sym.rfind("BENCH", 0) == 0) joined += n;
      }
      if (joined >= subscribers) break;
      std::this_thread::sleep_for(milliseconds(5));
    }
    spdlog::info("bench: {} subscribers in {} room(s); publishing {} for {} s", subscribers, rooms,
                 rate > 0 ? std::to_string(rate) + " msg/s" : std::string("flat out"), duration_s);
    std::vector<std::string> heads;
    for (int i = 0; i < rooms; ++i) {
      std::string h = R"({"type":"signal_update","data":{"symbol":")" + room(i) +
                      R"(","action":"BUY","confidence":0.8125,"agreement":0.8,"price":187.42,)"
                      R"("reasoning":[")";
      heads.push_back(std::move(h));
    }
    const auto per_room = static_cast<std::size_t>(subscribers / static_cast<std::size_t>(rooms));
    const auto start = steady_clock::now();
    const auto end = start + duration_cast<steady_clock::duration>(duration<double>(duration_s));
    const std::uint64_t sent0 = server.messages_sent();
    std::uint64_t published = 0, frames = 0;
    auto mono_ns = [] {
      timespec ts{};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    };
    const std::int64_t start_ns = mono_ns();
    // At a fixed rate the stamp is the time the message was due, so a publisher that falls
    // behind shows as latency rather than as a slower rate nobody sees.
    auto make = [&](std::uint64_t i) {
      const auto r = static_cast<std::size_t>(i % static_cast<std::uint64_t>(rooms));
      std::string body = heads[r];
      const std::size_t tail = 40;  // the timestamp and the closing of the object
      if (body.size() + tail < payload) body.append(payload - body.size() - tail, 'x');
      const std::int64_t stamp =
          rate > 0 ? start_ns + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate)
                   : mono_ns();
      body += R"("],"published_ns":)" + std::to_string(stamp) + "}}";
      return std::make_pair(room(static_cast<int>(r)), std::move(body));
    };
    std::vector<std::pair<std::string, std::string>> batch;
    for (std::uint64_t i = 0;;) {
      if (stop.load()) return;
      batch.clear();
      if (rate > 0) {
        if (static_cast<double>(i) >= rate * duration_s) break;
        std::this_thread::sleep_until(
            steady_clock::time_point(nanoseconds(start_ns)) +
            duration_cast<steady_clock::duration>(duration<double>(static_cast<double>(i) / rate)));
        batch.push_back(make(i++));
      } else {
        // Flat out: `burst` messages made, then handed over back to back (as the peers publish
        // a burst per turn of their event loop), while at most `backlog` per subscriber wait.
        if (steady_clock::now() >= end) break;
        while (frames > server.messages_sent() - sent0 + backlog * subscribers && !stop.load()) {
          std::this_thread::sleep_for(microseconds(500));
        }
        for (std::uint64_t k = 0; k < burst; ++k) batch.push_back(make(i++));
      }
      for (auto& [r, body] : batch) {
        server.publish(r, gs::MessageKind::SignalUpdate, std::move(body));
        ++published;
        frames += per_room;
      }
    }
    spdlog::info("bench: published {} messages", published);
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"GoldenSignals server: native and Python agents, consensus, WebSocket streaming",
               "goldensignals-server"};
  app.set_version_flag("--version", GS_VERSION);
  // Every runtime and server setting comes from the one table (server/settings.hpp); the
  // options after it only say how this process starts (feed, agents, logging, bench).
  std::map<std::string, std::string, std::less<>> given_text;
  std::map<std::string, CLI::Option*, std::less<>> given_opt;
  auto* group = app.add_option_group("settings", "runtime and server settings (docs/operations.md)");
  for (const auto& s : gs::settings::table()) {
    auto& target = given_text[std::string(s.key)];
    const std::string flag(s.flag);
    const bool is_flag = s.kind == gs::settings::Kind::Boolean;  // --store-prices[=false]
    auto* opt = is_flag ? group->add_flag(flag + "{true}", target, gs::settings::help_line(s))
                        : group->add_option(flag, target, gs::settings::help_line(s))
                              ->expected(0, 1);  // "--symbols=" is a value, refused as such
    opt->type_name(is_flag                                   ? "[=BOOL]"
                   : s.kind == gs::settings::Kind::Integer ? "INT"
                   : s.kind == gs::settings::Kind::Number  ? "NUMBER"
                                                           : "TEXT");
    given_opt[std::string(s.key)] = opt;
  }
  bool check_config = false;
  app.add_flag("--check-config", check_config,
               "check every setting and exit: 0 and one line when all are accepted, else 2 "
               "naming the first refused one");
  gs::ServerOptions so;
  std::string feed = "simulated";
  std::string agents_csv;
  std::vector<std::string> agents;
  std::string plugin;
  std::string level = "info";
  std::uint64_t seed = 7;
  double interval = 1.0;
  double speed = 1.0;
  bool no_builtin = false;
  BenchPublisher bench;

  app.add_option("--web-root", so.web_root,
                 "directory of the dashboard's static files (default: the installed package's)")
      ->envname("GS_WEB_ROOT");
  app.add_option("--feed", feed, "simulated, or replay:PATH.csv (date,open,high,low,close,volume)")
      ->envname("GS_FEED")
      ->capture_default_str();
  app.add_option("--seed", seed, "simulation seed")->envname("GS_SEED")->capture_default_str();
  app.add_option("--interval", interval, "seconds between simulated bars")
      ->envname("GS_INTERVAL")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--speed", speed, "replay speed, a multiple of real time (0: flat out)")
      ->envname("GS_REPLAY_SPEED")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--agents", agents,
                 "a native agent's name (Analog, or a built-in) or a Python agent as "
                 "module:object (repeatable; module:object loads Python)");
  app.add_option("--python-agents", agents_csv, "comma-separated module:object list")
      ->envname("GS_AGENTS");
  app.add_option("--pyhost-plugin", plugin, "path of libgoldensignals_pyhost.so")
      ->envname("GS_PYHOST_PLUGIN");
  app.add_flag("--no-builtin-agents", no_builtin, "do not add the native agents");
  app.add_option("--log-level", level, "trace, debug, info, warn, error")
      ->envname("GS_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  auto* bench_group = app.add_option_group("bench", "load generation for bench/ (make bench)");
  bench_group
      ->add_option("--bench-rooms", bench.rooms,
                   "publish into rooms BENCH (1) or BENCH0..BENCHn-1 (0: off)")
      ->check(CLI::Range(0, 100000));
  bench_group
      ->add_option("--bench-subscribers", bench.subscribers,
                   "start publishing once this many clients joined the rooms")
      ->check(CLI::Range(1, 10000000));
  bench_group->add_option("--bench-rate", bench.rate, "messages per second (0: flat out)")
      ->check(CLI::NonNegativeNumber);
  bench_group->add_option("--bench-duration", bench.duration_s, "seconds of publishing")
      ->check(CLI::Range(0.01, 3600.0));
  bench_group->add_option("--bench-payload-bytes", bench.payload, "approximate message size")
      ->check(CLI::Range(64, 1000000));
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_mt("goldensignals"));
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  // Signals are taken by sigwait on this thread; every other thread inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  try {
    // Flag > environment > default, each refusal naming the setting as it was given.
    std::map<std::string, gs::settings::Given, std::less<>> given;
    for (const auto& s : gs::settings::table()) {
      const std::string key(s.key);
      if (given_opt.at(key)->count() > 0) given[key] = {given_text.at(key), std::string(s.flag)};
    }
    const auto values = gs::settings::resolve(given, gs::settings::process_env);
    gs::RuntimeOptions ro;
    gs::settings::PythonHost py;
    const std::string web_root = so.web_root;
    gs::settings::apply(values, ro, so, py);
    so.web_root = web_root;
    gs::settings::check(ro, so);
    if (check_config) {
      std::cout << "goldensignals-server: every setting is accepted\n";
      return 0;
    }

    std::unique_ptr<gs::Feed> the_feed;
    if (feed == "simulated") {
      gs::SimulatedFeedOptions fo;
      fo.seed = seed;
      fo.interval_s = interval;
      the_feed = gs::make_simulated_feed(fo);
    } else if (feed.rfind("replay:", 0) == 0) {
      gs::ReplayFeedOptions fo;
      fo.speed = speed;
      auto bars = gs::read_ohlcv_csv(feed.substr(7));
      for (auto& [sym, series] : bars) {
        const auto name = sym.empty() ? gs::normalize_symbol(ro.symbols.at(0)) : sym;
        fo.bars[name] = std::move(series);
        if (std::find(ro.symbols.begin(), ro.symbols.end(), name) == ro.symbols.end()) {
          ro.symbols.push_back(name);
        }
      }
      the_feed = gs::make_replay_feed(std::move(fo));
    } else {
      throw gs::InvalidArgument("--feed '" + feed +
                                "' is not accepted; expected simulated or replay:PATH");
    }

    auto rt = std::make_shared<gs::Runtime>(ro, std::make_shared<LogSink>());
    if (!no_builtin) {
      for (auto& a : gs::make_builtin_agents()) rt->orchestrator().add_agent(std::move(a));
    }
    std::stringstream as(agents_csv);
    for (std::string s; std::getline(as, s, ',');) {
      if (!s.empty()) agents.push_back(s);
    }
    // A native agent's name (a built-in, or Analog) is made here; module:object is Python.
    std::vector<std::string> native, python;
    for (const auto& s : agents) (s.find(':') == std::string::npos ? native : python).push_back(s);
    if (!native.empty()) {
      for (auto& a : gs::make_builtin_agents(native)) rt->orchestrator().add_agent(std::move(a));
    }
    rt->orchestrator().set_default_timeout(py.agent_timeout);
    if (!python.empty()) load_python_agents(*rt, python, py.workers, plugin, argv[0]);
    rt->set_feed(std::move(the_feed));

    if (so.web_root.empty()) so.web_root = find_web_root(argv[0]);
    gs::Server server(so, rt);
    server.start();
    rt->start();
    spdlog::info(
        "goldensignals-server {} on http://{}:{}/ (WebSocket ws://{}:{}/ws/signals), {} "
        "symbols, {} agents, feed {}",
        GS_VERSION, so.host, server.port(), so.host, server.port(), rt->symbols().size(),
        rt->orchestrator().agents().size(), rt->feed_description());
    std::atomic<bool> bench_stop{false};
    std::thread bench_thread;
    if (bench.rooms > 0) {
      bench_thread = std::thread([&] {
        gs::name_this_thread("gs-bench-pub");
        bench.run(server, bench_stop);
      });
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    spdlog::info("signal {}: closing clients with 1001 and stopping", sig);
    bench_stop.store(true);
    if (bench_thread.joinable()) bench_thread.join();
    server.stop();
    rt->stop();
    spdlog::info("stopped");
    return 0;
  } catch (const gs::Error& e) {
    std::cerr << "goldensignals-server: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "goldensignals-server: " << e.what() << "\n";
    return 1;
  }
}
