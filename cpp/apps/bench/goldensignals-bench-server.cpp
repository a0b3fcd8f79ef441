// goldensignals-bench-server: goldensignals-server (the same settings, start-up and serving)
// with the load of bench/ on top: room messages published through Server::publish, the
// runtime's own path (bench_publisher.hpp). Built for `make bench`; not shipped.
#include <CLI/CLI.hpp>

#include "bench_publisher.hpp"
#include "goldensignals/core/thread_name.hpp"
#include "server_app.hpp"

int main(int argc, char** argv) {
  CLI::App app{"goldensignals-server with a load generator, for bench/ (make bench)",
               "goldensignals-bench-server"};
  gs::app::Launch launch;
  const gs::app::CommandLine cli(app, launch);
  gs::bench::Publisher bench;
  auto* group = app.add_option_group("bench", "the load");
  group
      ->add_option("--bench-rooms", bench.rooms,
                   "publish into rooms BENCH (1) or BENCH0..BENCHn-1 (0: off)")
      ->check(CLI::Range(0, 100000));
  group
      ->add_option("--bench-subscribers", bench.subscribers,
                   "start publishing once this many clients joined the rooms")
      ->check(CLI::Range(1, 10000000));
  group->add_option("--bench-rate", bench.rate, "messages per second (0: flat out)")
      ->check(CLI::NonNegativeNumber);
  group->add_option("--bench-duration", bench.duration_s, "seconds of publishing")
      ->check(CLI::Range(0.01, 3600.0));
  group->add_option("--bench-payload-bytes", bench.payload, "approximate signal_update size")
      ->check(CLI::Range(64, 1000000));
  group->add_option("--bench-kind", bench.kind, "signal (signal_update) or price (price_update)")
      ->check(CLI::IsMember({"signal", "price"}));
  group
      ->add_option("--bench-signal-every", bench.signal_every,
                   "with --bench-kind price: an unstamped signal_update before every n-th price "
                   "(0: none)")
      ->check(CLI::Range(0, 1000000));
  CLI11_PARSE(app, argc, argv);
  gs::app::Alongside load;
  if (bench.rooms > 0) {
    load = [&bench](gs::Server& server, const std::atomic<bool>& stop) {
      gs::name_this_thread("gs-bench-pub");
      bench.run(server, stop);
    };
  }
  return gs::app::run("goldensignals-bench-server", cli, launch, argv[0], load);
}
