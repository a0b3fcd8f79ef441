// How goldensignals-server starts, in steps that each do one thing: its command line (every
// setting of the one table, then how this process starts), logging, the feed, the runtime
// with its agents, and serving until SIGINT or SIGTERM. goldensignals-bench-server (bench/)
// starts the same way and adds its load on top.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "goldensignals/market/feed.hpp"
#include "goldensignals/net/options.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/server.hpp"
#include "goldensignals/server/settings.hpp"

namespace gs::app {

// How this process starts, besides the settings of the table.
struct Launch {
  std::string feed = "simulated";
  std::uint64_t seed = 7;
  double interval = 1.0;
  double speed = 1.0;
  std::vector<std::string> agents;
  std::string agents_csv;
  std::string plugin;
  std::string level = "info";
  std::string web_root;
  bool no_builtin = false;
  bool check_config = false;
};

// The command line: a flag per setting of the table (generated from it) and the start-up
// options. resolve() gives the settings, flag > environment > default, each refusal naming
// the setting as it was given.
class CommandLine {
 public:
  CommandLine(CLI::App& app, Launch& launch);
  struct Resolved {
    RuntimeOptions runtime;
    ServerOptions server;
    settings::PythonHost python;
  };
  [[nodiscard]] Resolved resolve() const;

 private:
  std::map<std::string, std::string, std::less<>> text_;
  std::map<std::string, CLI::Option*, std::less<>> option_;
};

void init_logging(const std::string& level);

// The feed `launch.feed` names; a replay adds the file's symbols to `ro.symbols`.
std::unique_ptr<Feed> make_feed(const Launch& launch, RuntimeOptions& ro);

// The runtime with its agents (built-in unless --no-builtin-agents, named native ones, and
// Python ones through the host plugin) and the feed.
std::shared_ptr<Runtime> make_runtime(const Launch& launch, CommandLine::Resolved& s,
                                      const char* argv0);

// Runs alongside the server, on a thread of its own, until `stop` is set.
using Alongside = std::function<void(Server&, const std::atomic<bool>& stop)>;

// The whole start: resolve, check (--check-config stops there), build, serve until SIGINT
// or SIGTERM, stop. The exit code: 0, 2 for a refused setting or bad input, 1 otherwise.
// Call with SIGINT and SIGTERM not yet blocked; `name` prefixes errors.
int run(const char* name, const CommandLine& cli, const Launch& launch, const char* argv0,
        const Alongside& alongside = {});

}  // namespace gs::app
