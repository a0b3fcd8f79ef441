// The one table of settings: its defaults are the option structs' defaults, every value is
// written where it belongs, seconds become milliseconds one way, refusals name the setting as
// it was given. (tests/py/test_settings_table.py checks both servers against the table.)
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/options.hpp"
#include "goldensignals/server/settings.hpp"

namespace {

using namespace gs;

settings::Values defaults() {
  return settings::resolve({}, [](std::string_view) { return std::optional<std::string>(); });
}

TEST(Settings, DefaultsAreTheOptionStructsDefaults) {
  RuntimeOptions r;
  ServerOptions o;
  settings::PythonHost py;
  settings::apply(defaults(), r, o, py);
  const RuntimeOptions r0;
  const ServerOptions o0;
  const settings::PythonHost py0;
  EXPECT_EQ(r.policy.min_confidence, r0.policy.min_confidence);
  EXPECT_EQ(r.policy.threshold, r0.policy.threshold);
  EXPECT_EQ(r.policy.min_agents, r0.policy.min_agents);
  EXPECT_EQ(r.signal_generation_interval_s, r0.signal_generation_interval_s);
  EXPECT_EQ(r.move_threshold, r0.move_threshold);
  EXPECT_EQ(r.history_bars, r0.history_bars);
  EXPECT_EQ(r.bar_seconds, r0.bar_seconds);
  EXPECT_EQ(r.analyze_on_start, r0.analyze_on_start);
  EXPECT_EQ(r.orchestrator.compute_threads, r0.orchestrator.compute_threads);
  EXPECT_EQ(r.orchestrator.breaker_faults, r0.orchestrator.breaker_faults);
  EXPECT_EQ(r.orchestrator.breaker_cooldown, r0.orchestrator.breaker_cooldown);
  EXPECT_EQ(r.scoring.horizon_bars, r0.scoring.horizon_bars);
  EXPECT_EQ(r.scoring.cost_bps, r0.scoring.cost_bps);
  EXPECT_EQ(py.workers, py0.workers);
  EXPECT_EQ(py.event_queue, py0.event_queue);
  EXPECT_EQ(py.agent_timeout, py0.agent_timeout);
  EXPECT_EQ(o.host, o0.host);
  EXPECT_EQ(o.port, o0.port);
  EXPECT_EQ(o.io_threads, o0.io_threads);
  EXPECT_EQ(o.heartbeat_interval, o0.heartbeat_interval);
  EXPECT_EQ(o.message_queue_size, o0.message_queue_size);
  EXPECT_EQ(o.max_connections, o0.max_connections);
  EXPECT_EQ(o.event_queue_size, o0.event_queue_size);
  EXPECT_EQ(o.store_queue_size, o0.store_queue_size);
  EXPECT_EQ(o.store_prices, o0.store_prices);
  EXPECT_EQ(o.commit_interval, o0.commit_interval);
  EXPECT_EQ(o.retention_days, o0.retention_days);
  EXPECT_EQ(o.retention_rows, o0.retention_rows);
  EXPECT_EQ(o.require_auth, o0.require_auth);
  EXPECT_EQ(o.jwt_leeway, o0.jwt_leeway);
  EXPECT_EQ(o.max_connections_per_ip, o0.max_connections_per_ip);
  EXPECT_EQ(o.max_subscriptions_per_client, o0.max_subscriptions_per_client);
  EXPECT_EQ(o.max_alerts_per_client, o0.max_alerts_per_client);
  EXPECT_EQ(o.alert_max_length, o0.alert_max_length);
  EXPECT_EQ(o.cache_max_age, o0.cache_max_age);
  EXPECT_EQ(o.compression, o0.compression);
  EXPECT_EQ(o.compression_window_bits, o0.compression_window_bits);
  EXPECT_EQ(o.compression_threshold, o0.compression_threshold);
  EXPECT_EQ(o.max_portfolios_per_client, o0.max_portfolios_per_client);
  EXPECT_EQ(o.max_portfolio_size, o0.max_portfolio_size);
  EXPECT_EQ(o.analyze_rate.per_second, o0.analyze_rate.per_second);
  EXPECT_EQ(o.analyze_rate.burst, o0.analyze_rate.burst);
  EXPECT_EQ(o.message_rate.per_second, o0.message_rate.per_second);
  EXPECT_EQ(o.message_rate.burst, o0.message_rate.burst);
  EXPECT_EQ(o.max_message_bytes, o0.max_message_bytes);
  EXPECT_EQ(o.handshake_timeout, o0.handshake_timeout);
  EXPECT_EQ(o.http_header_limit, o0.http_header_limit);
  EXPECT_EQ(o.http_body_limit, o0.http_body_limit);
  EXPECT_EQ(o.max_active_analyses, o0.max_active_analyses);
  EXPECT_EQ(o.redis_url, o0.redis_url);
  EXPECT_EQ(o.redis_password, o0.redis_password);
  EXPECT_EQ(o.node_id, o0.node_id);
  EXPECT_EQ(o.redis_lease, o0.redis_lease);
  EXPECT_EQ(o.redis_stream_length, o0.redis_stream_length);
  // The library's server keeps no history unless asked; the server apps default to a file.
  EXPECT_EQ(o.db, "goldensignals.db");
  EXPECT_NO_THROW(settings::check(r, o));
}

TEST(Settings, EveryRowIsNamedOnceAndItsDefaultParses) {
  std::set<std::string_view> keys, envs, flags;
  for (const auto& s : settings::table()) {
    EXPECT_TRUE(keys.insert(s.key).second) << s.key;
    EXPECT_TRUE(envs.insert(s.env).second) << s.env;
    EXPECT_TRUE(flags.insert(s.flag).second) << s.flag;
    std::string flag = "--" + std::string(s.key);  // the keyword with dashes
    std::replace(flag.begin(), flag.end(), '_', '-');
    EXPECT_EQ(s.flag, flag);
    EXPECT_NO_THROW((void)settings::parse(s, s.fallback, s.key)) << s.key;
  }
  EXPECT_EQ(keys.size(), settings::table().size());
}

TEST(Settings, GivenBeatsEnvironmentBeatsDefault) {
  auto env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "GS_MOVE_THRESHOLD") return "0.05";
    if (name == "WS_MAX_CONNECTIONS") return "20";
    return std::nullopt;
  };
  const auto v = settings::resolve({{"move_threshold", {"0.02", "--move-threshold"}}}, env);
  EXPECT_EQ(settings::number(v, "move_threshold"), 0.02);
  EXPECT_EQ(settings::integer(v, "ws_max_connections"), 20);
  EXPECT_EQ(settings::integer(v, "port"), 8000);
}

TEST(Settings, RefusalsNameTheSettingAsGiven) {
  auto none = [](std::string_view) { return std::optional<std::string>(); };
  try {
    (void)settings::resolve({{"ws_max_connections", {"5000000", "--ws-max-connections"}}}, none);
    FAIL() << "accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "--ws-max-connections '5000000' is not accepted; expected an integer in [1, "
                 "1000000]");
  }
  auto env = [](std::string_view n) -> std::optional<std::string> {
    return n == "WS_HEARTBEAT_INTERVAL" ? std::optional<std::string>("0") : std::nullopt;
  };
  EXPECT_THROW((void)settings::resolve({}, env), InvalidArgument);
  EXPECT_THROW((void)settings::resolve({{"no_such", {"1", "--no-such"}}}, none), InvalidArgument);
  const auto& port = settings::spec("port");
  for (const char* bad : {"", " ", "8000.0", "0x10", "-1", "65536", "1e3", "80 80"}) {
    EXPECT_THROW((void)settings::parse(port, bad, "GS_PORT"), InvalidArgument) << bad;
  }
  EXPECT_EQ(std::get<std::int64_t>(settings::parse(port, " +80 ", "GS_PORT")), 80);
}

TEST(Settings, SecondsBecomeMillisecondsRounded) {
  EXPECT_EQ(settings::to_ms(0.0015).count(), 2);
  EXPECT_EQ(settings::to_ms(0.0014).count(), 1);
  EXPECT_EQ(settings::to_ms(0.0001).count(), 1);  // positive stays positive
  EXPECT_EQ(settings::to_ms(2.9999).count(), 3000);
  EXPECT_EQ(settings::to_ms(0).count(), 0);
}

// The history's group commit: 0 (each commit as soon as the last ended) reaches the store's
// options as 0, and more than a second is refused.
TEST(Settings, CommitIntervalReachesTheServerOptions) {
  const auto with = [](std::string value) {
    RuntimeOptions r;
    ServerOptions o;
    settings::PythonHost py;
    const auto v = settings::resolve({{"commit_interval", {std::move(value), "--commit-interval"}}},
                                     [](std::string_view) { return std::optional<std::string>(); });
    settings::apply(v, r, o, py);
    return o.commit_interval.count();
  };
  EXPECT_EQ(with("0"), 0);
  EXPECT_EQ(with("0.002"), 2);
  EXPECT_THROW(with("2"), InvalidArgument);
}

TEST(Settings, DatabaseOffWordsAndSymbols) {
  const auto& db = settings::spec("db");
  for (const char* off : {"", "off", "OFF", "None", "false", "0", "  off "}) {
    EXPECT_EQ(std::get<std::string>(settings::parse(db, off, "GS_DB")), "") << off;
  }
  EXPECT_EQ(std::get<std::string>(settings::parse(db, " /tmp/x.db ", "GS_DB")), "/tmp/x.db");
  const auto sy = std::get<std::vector<std::string>>(
      settings::parse(settings::spec("symbols"), " aapl, ,nvda ", "GS_SYMBOLS"));
  EXPECT_EQ(sy, (std::vector<std::string>{"AAPL", "NVDA"}));
}

}  // namespace
