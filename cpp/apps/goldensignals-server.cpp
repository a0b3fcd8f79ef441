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
using LoadAgents = int (*)(gs::Runtime*, const char* spec, char* err, std::size_t errlen);

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
                        const std::string& plugin_hint, const char* argv0) {
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
    if (load(&rt, spec.c_str(), err, sizeof(err)) != 0) {
      throw gs::InvalidArgument("--agents " + spec + ": " + err);
    }
    spdlog::info("loaded Python agent(s) from {}", spec);
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
  gs::RuntimeOptions ro;
  gs::ServerOptions so;
  std::string symbols = "AAPL,GOOGL,MSFT,TSLA,NVDA,SPY,QQQ";
  std::string feed = "simulated";
  std::string agents_csv;
  std::vector<std::string> agents;
  std::string plugin;
  std::string level = "info";
  std::uint64_t seed = 7;
  double interval = 1.0;
  double speed = 1.0;
  double heartbeat_s = 30.0;
  double breaker_cooldown_s = 30.0;
  bool no_builtin = false;
  int port = 8000;
  BenchPublisher bench;

  app.add_option("--host", so.host, "address to bind")->envname("GS_HOST")->capture_default_str();
  app.add_option("--port", port, "port to bind (0: any free port)")
      ->envname("GS_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--symbols", symbols, "comma-separated symbols")
      ->envname("GS_SYMBOLS")
      ->capture_default_str();
  app.add_option("--agent-min-confidence", ro.policy.min_confidence, "weaker votes do not count")
      ->envname("AGENT_MIN_CONFIDENCE")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--agent-consensus-threshold", ro.policy.threshold,
                 "agreement needed for a signal (never below 0.5)")
      ->envname("AGENT_CONSENSUS_THRESHOLD")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--min-agents-for-signal", ro.policy.min_agents, "quorum floor")
      ->envname("GS_MIN_AGENTS_FOR_SIGNAL")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--signal-generation-interval", ro.signal_generation_interval_s,
                 "seconds of market time without an analysis that trigger one")
      ->envname("SIGNAL_GENERATION_INTERVAL")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--move-threshold", ro.move_threshold,
                 "move that triggers an analysis (0.01 = 1%)")
      ->envname("GS_MOVE_THRESHOLD")
      ->capture_default_str();
  app.add_option("--score-horizon", ro.scoring.horizon_bars,
                 "bars after which each signal and each BUY/SELL vote is scored (0: no live "
                 "scoring)")
      ->envname("GS_SCORE_HORIZON")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  app.add_option("--score-cost-bps", ro.scoring.cost_bps,
                 "fees and half-spread per side, in basis points, taken from scored trades")
      ->envname("GS_SCORE_COST_BPS")
      ->check(CLI::Range(0.0, 10000.0))
      ->capture_default_str();
  app.add_option("--history-bars", ro.history_bars, "bars kept per symbol")
      ->envname("GS_HISTORY_BARS")
      ->capture_default_str();
  app.add_option("--compute-threads", ro.orchestrator.compute_threads, "threads for native agents")
      ->envname("GS_COMPUTE_THREADS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--breaker-faults", ro.orchestrator.breaker_faults,
                 "consecutive faults that disable an agent")
      ->envname("GS_BREAKER_FAULTS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--breaker-cooldown", breaker_cooldown_s, "seconds a disabled agent rests")
      ->envname("GS_BREAKER_COOLDOWN")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--io-threads", so.io_threads, "network threads")
      ->envname("GS_IO_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--ws-heartbeat-interval", heartbeat_s, "seconds between heartbeats")
      ->envname("WS_HEARTBEAT_INTERVAL")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--ws-message-queue-size", so.message_queue_size, "messages queued per client")
      ->envname("WS_MESSAGE_QUEUE_SIZE")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--ws-max-connections", so.max_connections, "WebSocket connections, at most")
      ->envname("WS_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  std::string db = "goldensignals.db";
  app.add_option("--db", db, "SQLite file of the signal history (off: no history)")
      ->envname("GS_DB")
      ->capture_default_str();
  app.add_flag("--store-prices{true},!--no-store-prices", so.store_prices,
               "store price_update messages in the history too")
      ->envname("GS_STORE_PRICES");
  app.add_option("--retention-days", so.retention_days, "history older than this is deleted")
      ->envname("GS_RETENTION_DAYS")
      ->check(CLI::Range(0.001, 36500.0))
      ->capture_default_str();
  app.add_option("--retention-rows", so.retention_rows, "history messages kept per symbol")
      ->envname("GS_RETENTION_ROWS")
      ->check(CLI::Range(1, 1000000000))
      ->capture_default_str();
  // Security and limits (docs/security.md); the same names as goldensignals.settings.
  double jwt_leeway_s = 30.0, handshake_timeout_s = 10.0;
  app.add_flag("--require-auth", so.require_auth, "refuse upgrades without a valid JWT (401)")
      ->envname("GS_REQUIRE_AUTH");
  app.add_option("--jwt-secret", so.jwt_secret, "shared secret of HS256/384/512 tokens")
      ->envname("GS_JWT_SECRET");
  app.add_option("--jwt-public-key", so.jwt_public_key, "PEM public key file for RS*/ES* tokens")
      ->envname("GS_JWT_PUBLIC_KEY");
  app.add_option("--jwt-leeway", jwt_leeway_s, "seconds of clock skew allowed on exp and nbf")
      ->envname("GS_JWT_LEEWAY")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--admin-token", so.admin_token, "token that /ws/status and /metrics require")
      ->envname("GS_ADMIN_TOKEN");
  app.add_option("--allowed-origins", so.allowed_origins,
                 "browser origins allowed: empty or * any, self, or a comma list")
      ->envname("GS_ALLOWED_ORIGINS");
  app.add_option("--tls-cert", so.tls_cert, "PEM certificate chain (with --tls-key: TLS only)")
      ->envname("GS_TLS_CERT");
  app.add_option("--tls-key", so.tls_key, "PEM private key")->envname("GS_TLS_KEY");
  app.add_option("--ws-max-connections-per-ip", so.max_connections_per_ip,
                 "WebSocket connections per client address")
      ->envname("WS_MAX_CONNECTIONS_PER_IP")
      ->capture_default_str();
  app.add_option("--ws-max-subscriptions", so.max_subscriptions_per_client, "rooms per client")
      ->envname("WS_MAX_SUBSCRIPTIONS")
      ->capture_default_str();
  app.add_option("--ws-analyze-rate", so.analyze_rate.per_second, "analyze requests/s per client")
      ->envname("WS_ANALYZE_RATE")
      ->capture_default_str();
  app.add_option("--ws-analyze-burst", so.analyze_rate.burst, "analyze requests saved up")
      ->envname("WS_ANALYZE_BURST")
      ->capture_default_str();
  app.add_option("--ws-max-messages-per-second", so.message_rate.per_second,
                 "messages/s per client (burst 2x), then close 1008")
      ->envname("WS_MAX_MESSAGES_PER_SECOND")
      ->capture_default_str();
  app.add_option("--ws-max-message-size", so.max_message_bytes, "bytes of one client message")
      ->envname("WS_MAX_MESSAGE_SIZE")
      ->capture_default_str();
  app.add_option("--ws-handshake-timeout", handshake_timeout_s,
                 "seconds a new connection has for its first request or upgrade")
      ->envname("WS_HANDSHAKE_TIMEOUT")
      ->check(CLI::Range(0.01, 600.0))
      ->capture_default_str();
  app.add_option("--http-max-header", so.http_header_limit, "bytes of HTTP request headers")
      ->envname("GS_HTTP_MAX_HEADER")
      ->capture_default_str();
  app.add_option("--http-max-body", so.http_body_limit, "bytes of an HTTP request body")
      ->envname("GS_HTTP_MAX_BODY")
      ->capture_default_str();
  app.add_option("--max-active-analyses", so.max_active_analyses,
                 "analyses running at once server-wide")
      ->envname("GS_MAX_ACTIVE_ANALYSES")
      ->capture_default_str();
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
    std::stringstream ss(symbols);
    for (std::string s; std::getline(ss, s, ',');) {
      if (!s.empty()) ro.symbols.push_back(s);
    }
    ro.orchestrator.breaker_cooldown =
        std::chrono::milliseconds(static_cast<std::int64_t>(breaker_cooldown_s * 1000));
    so.port = static_cast<std::uint16_t>(port);
    so.heartbeat_interval =
        std::chrono::milliseconds(static_cast<std::int64_t>(heartbeat_s * 1000));
    so.jwt_leeway = std::chrono::seconds(static_cast<std::int64_t>(jwt_leeway_s));
    so.handshake_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(handshake_timeout_s * 1000));
    so.message_rate.burst = std::max(1.0, 2 * so.message_rate.per_second);

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
    if (!python.empty()) load_python_agents(*rt, python, plugin, argv[0]);
    rt->set_feed(std::move(the_feed));

    if (so.web_root.empty()) so.web_root = find_web_root(argv[0]);
    so.db = (db == "off" || db == "OFF" || db == "none") ? std::string() : db;
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
