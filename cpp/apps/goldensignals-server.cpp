// goldensignals-server: the runtime and its WebSocket/HTTP server as one native binary, for
// production. Every setting is a flag and an environment variable (flag > environment >
// default); Python agents load through an embedded interpreter only with --agents.
#include <CLI/CLI.hpp>

#include "server_app.hpp"

int main(int argc, char** argv) {
  CLI::App app{"GoldenSignals server: native and Python agents, consensus, WebSocket streaming",
               "goldensignals-server"};
  gs::app::Launch launch;
  const gs::app::CommandLine cli(app, launch);
  CLI11_PARSE(app, argc, argv);
  return gs::app::run("goldensignals-server", cli, launch, argv[0]);
}
