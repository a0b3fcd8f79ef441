#include "goldensignals/server/settings.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/options.hpp"

namespace gs::settings {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// The names in docs/protocol.md's "Configuration names" (AGENT_*, SIGNAL_*, WS_*) are kept as
// the original design wrote them; every other variable has the GS_ prefix.
constexpr Spec kTable[] = {
    {"symbols", "GS_SYMBOLS", "--symbols", Kind::Symbols, "AAPL,GOOGL,MSFT,TSLA,NVDA,SPY,QQQ", 0, 0,
     false, "", "symbols monitored (comma-separated)"},
    {"host", "GS_HOST", "--host", Kind::Address, "127.0.0.1", 0, 0, false, "",
     "address the server binds"},
    {"port", "GS_PORT", "--port", Kind::Integer, "8000", 0, 65'535, false, "",
     "port the server binds (0: any free port)"},
    {"io_threads", "GS_IO_THREADS", "--io-threads", Kind::Integer, "1", 1, 64, false, "",
     "the server's network threads"},
    {"agent_min_confidence", "AGENT_MIN_CONFIDENCE", "--agent-min-confidence", Kind::Number, "0.6",
     0, 1, false, "", "votes below this do not count"},
    {"agent_consensus_threshold", "AGENT_CONSENSUS_THRESHOLD", "--agent-consensus-threshold",
     Kind::Number, "0.7", 0, 1, false, "", "agreement needed for a signal (never below 0.5)"},
    {"signal_generation_interval", "SIGNAL_GENERATION_INTERVAL", "--signal-generation-interval",
     Kind::Number, "30", 0, 31'622'400, true, "s",
     "seconds of market time without an analysis that trigger one"},
    {"min_agents_for_signal", "GS_MIN_AGENTS_FOR_SIGNAL", "--min-agents-for-signal", Kind::Integer,
     "3", 1, 10'000, false, "", "quorum floor"},
    {"move_threshold", "GS_MOVE_THRESHOLD", "--move-threshold", Kind::Number, "0.01", 0, 1, true,
     "", "price move since the last analysis that triggers one (0.01 = 1%)"},
    {"history_bars", "GS_HISTORY_BARS", "--history-bars", Kind::Integer, "512", 2, 1'000'000, false,
     "", "bars kept per symbol"},
    {"bar_seconds", "GS_BAR_SECONDS", "--bar-seconds", Kind::Number, "60", 0, 86'400, false, "s",
     "length of the bars that published ticks build (0: ticks form no bars)"},
    {"compute_threads", "GS_COMPUTE_THREADS", "--compute-threads", Kind::Integer, "1", 1, 256,
     false, "", "threads for native agents and consensus"},
    {"python_workers", "GS_PYTHON_WORKERS", "--python-workers", Kind::Integer, "2", 1, 64, false,
     "", "threads that run Python agents"},
    {"analyze_on_start", "GS_ANALYZE_ON_START", "--analyze-on-start", Kind::Boolean, "true", 0, 0,
     false, "", "analyse each symbol once as soon as it has data"},
    {"breaker_faults", "GS_BREAKER_FAULTS", "--breaker-faults", Kind::Integer, "5", 1, 1'000'000,
     false, "", "consecutive faults that disable an agent"},
    {"breaker_cooldown", "GS_BREAKER_COOLDOWN", "--breaker-cooldown", Kind::Number, "30", 0, 3600,
     true, "s", "seconds a disabled agent rests before a trial call"},
    {"event_queue", "GS_EVENT_QUEUE", "--event-queue", Kind::Integer, "65536", 16, 10'000'000,
     false, "",
     "events waiting for Python callbacks, at most (more are dropped and counted; "
     "the native server has no Python callbacks)"},
    {"agent_timeout", "GS_AGENT_TIMEOUT", "--agent-timeout", Kind::Number, "1", 0, 3600, true, "s",
     "deadline of a Python agent that sets none of its own"},
    {"score_horizon", "GS_SCORE_HORIZON", "--score-horizon", Kind::Integer, "5", 0, 10'000, false,
     "", "bars after which each signal and each BUY/SELL vote is scored (0: no live scoring)"},
    {"score_cost_bps", "GS_SCORE_COST_BPS", "--score-cost-bps", Kind::Number, "0", 0, 10'000, false,
     "", "fees and half-spread per side, in basis points, taken from scored trades"},
    {"ws_heartbeat_interval", "WS_HEARTBEAT_INTERVAL", "--ws-heartbeat-interval", Kind::Number,
     "30", 0.01, 3600, false, "s", "seconds between server heartbeats"},
    {"ws_message_queue_size", "WS_MESSAGE_QUEUE_SIZE", "--ws-message-queue-size", Kind::Integer,
     "1000", 1, 1'000'000, false, "", "messages queued per WebSocket client, at most"},
    {"ws_max_connections", "WS_MAX_CONNECTIONS", "--ws-max-connections", Kind::Integer, "1000", 1,
     1'000'000, false, "", "WebSocket connections, at most"},
    {"router_queue", "GS_ROUTER_QUEUE", "--router-queue", Kind::Integer, "10000", 16, 10'000'000,
     false, "",
     "room messages numbered and waiting for the network thread, at most (past it prices are "
     "shed and the history's writer waits)"},
    {"store_queue", "GS_STORE_QUEUE", "--store-queue", Kind::Integer, "10000", 16, 10'000'000,
     false, "",
     "room messages waiting for the history's commit, at most (past it prices are shed and "
     "other messages wait)"},
    {"db", "GS_DB", "--db", Kind::Database, "goldensignals.db", 0, 0, false, "",
     "SQLite file of the signal history the server keeps (off: no history, no recovery)"},
    {"store_prices", "GS_STORE_PRICES", "--store-prices", Kind::Boolean, "false", 0, 0, false, "",
     "store price_update messages in the history too"},
    {"commit_interval", "GS_COMMIT_INTERVAL", "--commit-interval", Kind::Number, "0.005", 0, 1,
     false, "s",
     "time from the start of one history commit to the next, at least: what arrives meanwhile "
     "joins the next commit and shares its fsync, and waits for it (0: a commit starts as soon "
     "as the previous one ends)"},
    {"retention_days", "GS_RETENTION_DAYS", "--retention-days", Kind::Number, "30", 0, 36'500, true,
     "", "history older than this many days is deleted"},
    {"retention_rows", "GS_RETENTION_ROWS", "--retention-rows", Kind::Integer, "100000", 1,
     1'000'000'000, false, "", "history messages kept per symbol, at most"},
    // Security and limits (docs/security.md).
    {"require_auth", "GS_REQUIRE_AUTH", "--require-auth", Kind::Boolean, "false", 0, 0, false, "",
     "refuse upgrades without a valid JWT (401); needs GS_JWT_SECRET or GS_JWT_PUBLIC_KEY"},
    {"jwt_secret", "GS_JWT_SECRET", "--jwt-secret", Kind::Text, "", 0, 0, false, "",
     "shared secret of HS256/384/512 tokens"},
    {"jwt_public_key", "GS_JWT_PUBLIC_KEY", "--jwt-public-key", Kind::Text, "", 0, 0, false, "",
     "PEM file of the RSA or EC public key of RS*/ES* tokens"},
    {"jwt_leeway", "GS_JWT_LEEWAY", "--jwt-leeway", Kind::Number, "30", 0, 3600, false, "s",
     "seconds of clock skew allowed on a token's exp and nbf (rounded to whole seconds, as "
     "token times are)"},
    {"admin_token", "GS_ADMIN_TOKEN", "--admin-token", Kind::Text, "", 0, 0, false, "",
     "token that /ws/status and /metrics require when set (or a JWT with scope admin)"},
    {"allowed_origins", "GS_ALLOWED_ORIGINS", "--allowed-origins", Kind::Text, "", 0, 0, false, "",
     "browser origins allowed to connect: empty or * any, self, or a comma list (else 403)"},
    {"tls_cert", "GS_TLS_CERT", "--tls-cert", Kind::Text, "", 0, 0, false, "",
     "PEM certificate chain; with GS_TLS_KEY the server speaks only TLS"},
    {"tls_key", "GS_TLS_KEY", "--tls-key", Kind::Text, "", 0, 0, false, "",
     "PEM private key of GS_TLS_CERT"},
    {"ws_max_connections_per_ip", "WS_MAX_CONNECTIONS_PER_IP", "--ws-max-connections-per-ip",
     Kind::Integer, "100", 1, 1'000'000, false, "",
     "WebSocket connections per client address, at most (more get 429)"},
    {"ws_max_subscriptions", "WS_MAX_SUBSCRIPTIONS", "--ws-max-subscriptions", Kind::Integer, "100",
     1, 100'000, false, "", "rooms one client may join (alert too_many_subscriptions)"},
    {"max_alerts", "GS_MAX_ALERTS", "--max-alerts", Kind::Integer, "20", 0, 10'000, false, "",
     "custom alerts per connection, and of a token subject's stored ones brought back (0: "
     "none)"},
    {"alert_max_length", "GS_ALERT_MAX_LENGTH", "--alert-max-length", Kind::Integer, "256", 16,
     4'096, false, "characters", "length of a custom alert's condition, at most"},
    {"max_portfolios", "GS_MAX_PORTFOLIOS", "--max-portfolios", Kind::Integer, "5", 0, 1'000, false,
     "", "portfolios one connection may watch (subscribe_portfolio; 0: none)"},
    {"max_portfolio_size", "GS_MAX_PORTFOLIO_SIZE", "--max-portfolio-size", Kind::Integer, "50", 1,
     10'000, false, "", "positions in one portfolio, at most"},
    {"ws_compression", "GS_WS_COMPRESSION", "--ws-compression", Kind::Boolean, "true", 0, 0, false,
     "",
     "permessage-deflate for clients that offer it, each message compressed once for all of "
     "them (no server context takeover)"},
    {"ws_compression_window_bits", "GS_WS_COMPRESSION_WINDOW_BITS", "--ws-compression-window-bits",
     Kind::Integer, "15", 9, 15, false, "",
     "the server's deflate window, 2^N bytes (a client may ask for less)"},
    {"ws_compression_threshold", "GS_WS_COMPRESSION_THRESHOLD", "--ws-compression-threshold",
     Kind::Integer, "256", 0, 67'108'864, false, "bytes",
     "messages shorter than this go uncompressed"},
    {"cache_max_age", "GS_CACHE_MAX_AGE", "--cache-max-age", Kind::Integer, "1", 0, 86'400, false,
     "s", "how long caches may keep /api/snapshot and /api/bars answers (Cache-Control: max-age)"},
    {"ws_analyze_rate", "WS_ANALYZE_RATE", "--ws-analyze-rate", Kind::Number, "5", 0, 1'000'000,
     true, "", "analyze requests per second per client (alert rate_limited with retry_after)"},
    {"ws_analyze_burst", "WS_ANALYZE_BURST", "--ws-analyze-burst", Kind::Number, "10", 1, 1'000'000,
     false, "", "analyze requests a client may save up"},
    {"ws_max_messages_per_second", "WS_MAX_MESSAGES_PER_SECOND", "--ws-max-messages-per-second",
     Kind::Number, "100", 0, 1'000'000, true, "",
     "messages per second per client, burst 2x (past it: close 1008 message flood)"},
    {"ws_max_message_size", "WS_MAX_MESSAGE_SIZE", "--ws-max-message-size", Kind::Integer, "65536",
     128, 64 * kMiB, false, "bytes", "bytes of one client message, at most (past it: close 1009)"},
    {"ws_handshake_timeout", "WS_HANDSHAKE_TIMEOUT", "--ws-handshake-timeout", Kind::Number, "10",
     0.01, 600, false, "s",
     "seconds a new connection has for its first request or upgrade (and TLS handshake)"},
    {"http_max_header", "GS_HTTP_MAX_HEADER", "--http-max-header", Kind::Integer, "16384", 1024,
     kMiB, false, "bytes", "bytes of HTTP request headers, at most (431)"},
    {"http_max_body", "GS_HTTP_MAX_BODY", "--http-max-body", Kind::Integer, "65536", 0, 64 * kMiB,
     false, "bytes", "bytes of an HTTP request body, at most (413)"},
    {"max_active_analyses", "GS_MAX_ACTIVE_ANALYSES", "--max-active-analyses", Kind::Integer, "64",
     1, 1'000'000, false, "",
     "analyses running at once server-wide; more analyze requests get alert server_busy"},
    // Many nodes over Redis (docs/operations.md, "Many nodes").
    {"redis_url", "GS_REDIS_URL", "--redis-url", Kind::Text, "", 0, 0, false, "",
     "Redis that makes this node one of many: redis://[[user]:password@]host[:port][/db], or "
     "rediss:// for TLS (empty: one node)"},
    {"redis_password", "GS_REDIS_PASSWORD", "--redis-password", Kind::Text, "", 0, 0, false, "",
     "password of the Redis of GS_REDIS_URL (instead of one in the URL)"},
    {"node_id", "GS_NODE_ID", "--node-id", Kind::Text, "", 0, 0, false, "",
     "this node's name among the nodes (empty: host name:port)"},
    {"redis_lease", "GS_REDIS_LEASE", "--redis-lease", Kind::Number, "3", 0.1, 60, false, "s",
     "seconds a node owns a symbol without renewing; a dead owner's symbols move within it"},
    {"redis_stream_length", "GS_REDIS_STREAM_LENGTH", "--redis-stream-length", Kind::Integer,
     "10000", 100, 100'000'000, false, "",
     "room messages kept per symbol in Redis for recovery on any node (XADD MAXLEN ~)"},
};

std::string trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string bound(double x, Kind k) {
  return k == Kind::Integer ? std::to_string(static_cast<std::int64_t>(x)) : fmt_num(x);
}

bool in_range(const Spec& s, double x) {
  return std::isfinite(x) && x >= s.lo && x <= s.hi && !(s.lo_open && x == s.lo);
}

[[noreturn]] void refuse(const Spec& s, std::string_view raw, std::string_view given_as) {
  throw InvalidArgument(std::string(given_as) + " '" + std::string(raw) +
                        "' is not accepted; expected " + accepted(s));
}

const Value& get(const Values& v, std::string_view key) {
  const auto it = v.find(key);
  if (it == v.end()) throw InvalidArgument("settings: '" + std::string(key) + "' is missing");
  return it->second;
}

template <class T>
const T& as(const Values& v, std::string_view key) {
  const auto* p = std::get_if<T>(&get(v, key));
  if (!p) throw InvalidArgument("settings: '" + std::string(key) + "' has the wrong type");
  return *p;
}

std::size_t count(const Values& v, std::string_view key) {
  return static_cast<std::size_t>(integer(v, key));
}

}  // namespace

std::span<const Spec> table() { return kTable; }

const Spec& spec(std::string_view key) {
  for (const auto& s : kTable) {
    if (s.key == key) return s;
  }
  std::string known;
  for (const auto& s : kTable) known += (known.empty() ? "" : ", ") + std::string(s.key);
  throw InvalidArgument("unknown setting '" + std::string(key) + "'; accepted: " + known);
}

std::string accepted(const Spec& s) {
  const std::string range =
      std::string(s.lo_open ? "(" : "[") + bound(s.lo, s.kind) + ", " + bound(s.hi, s.kind) + "]";
  const std::string of = s.unit == "s" ? " of seconds" : s.unit == "bytes" ? " of bytes" : "";
  switch (s.kind) {
    case Kind::Integer:
      return (of.empty() ? std::string("an integer") : "a whole number" + of) + " in " + range;
    case Kind::Number:
      return (of.empty() ? std::string("a number") : "a number" + of) + " in " + range;
    case Kind::Boolean:
      return "true or false (also yes/no, on/off, 1/0)";
    case Kind::Text:
      return "text";
    case Kind::Address:
      return "an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::";
    case Kind::Symbols:
      return "a comma-separated list of at least one symbol";
    case Kind::Database:
      return "a file path, or off for no history";
  }
  return {};
}

std::string help_line(const Spec& s) {
  std::string out = std::string(s.help) + " [env " + std::string(s.env) + "; " + accepted(s);
  if (s.kind != Kind::Text || !s.fallback.empty()) {
    out += "; default " + std::string(s.fallback.empty() ? "empty" : s.fallback);
  }
  return out + "]";
}

Value parse(const Spec& s, std::string_view raw, std::string_view given_as) {
  const std::string t = trimmed(raw);
  switch (s.kind) {
    case Kind::Integer: {
      std::int64_t x = 0;
      const char* end = t.data() + t.size();
      const auto r = std::from_chars(t.data() + (!t.empty() && t[0] == '+'), end, x);
      if (t.empty() || r.ec != std::errc() || r.ptr != end ||
          !in_range(s, static_cast<double>(x))) {
        refuse(s, raw, given_as);
      }
      return x;
    }
    case Kind::Number: {
      char* end = nullptr;
      const double x = t.empty() ? NAN : std::strtod(t.c_str(), &end);
      if (t.empty() || end != t.c_str() + t.size() || !in_range(s, x)) {
        refuse(s, raw, given_as);
      }
      return x;
    }
    case Kind::Boolean: {
      const auto w = lower(t);
      if (w == "1" || w == "true" || w == "yes" || w == "on") return true;
      if (w == "0" || w == "false" || w == "no" || w == "off") return false;
      refuse(s, raw, given_as);
    }
    case Kind::Text:
      if (t.find('\0') != std::string::npos) refuse(s, raw, given_as);
      return t;
    case Kind::Address: {
      boost::system::error_code ec;
      boost::asio::ip::make_address(t, ec);
      if (ec) refuse(s, raw, given_as);
      return t;
    }
    case Kind::Symbols: {
      std::vector<std::string> out;
      std::string_view rest = t;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string one = trimmed(rest.substr(0, comma));
        std::transform(one.begin(), one.end(), one.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (!one.empty()) out.push_back(std::move(one));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      if (out.empty()) refuse(s, raw, given_as);
      return out;
    }
    case Kind::Database: {
      const auto w = lower(t);
      if (w.empty() || w == "off" || w == "none" || w == "false" || w == "0") return std::string();
      if (t.find('\0') != std::string::npos) refuse(s, raw, given_as);
      return t;
    }
  }
  refuse(s, raw, given_as);
}

double check_number(const Spec& s, double x, std::string_view given_as) {
  if (!in_range(s, x)) refuse(s, fmt_num(x), given_as);
  return x;
}

std::optional<std::string> process_env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Values resolve(const std::map<std::string, Given, std::less<>>& given,
               const std::function<std::optional<std::string>(std::string_view)>& env) {
  for (const auto& [key, g] : given) (void)spec(key);  // an unknown keyword is refused
  Values out;
  for (const auto& s : kTable) {
    const std::string key(s.key);
    if (const auto it = given.find(key); it != given.end()) {
      out[key] = parse(s, it->second.raw, it->second.given_as);
    } else if (auto e = env(s.env)) {
      out[key] = parse(s, *e, s.env);
    } else {
      out[key] = parse(s, s.fallback, std::string(s.key) + " (default)");
    }
  }
  return out;
}

std::chrono::milliseconds to_ms(double seconds) {
  const auto ms = std::llround(seconds * 1000.0);
  return std::chrono::milliseconds(seconds > 0 ? std::max<std::int64_t>(1, ms) : ms);
}

void check(const RuntimeOptions& r, const ServerOptions& o) {
  for (const auto& sym : r.symbols) (void)normalize_symbol(sym);
  r.validate();
  o.validate();
}

std::int64_t integer(const Values& v, std::string_view key) { return as<std::int64_t>(v, key); }
double number(const Values& v, std::string_view key) { return as<double>(v, key); }
bool boolean(const Values& v, std::string_view key) { return as<bool>(v, key); }
const std::string& text(const Values& v, std::string_view key) { return as<std::string>(v, key); }
const std::vector<std::string>& symbols(const Values& v, std::string_view key) {
  return as<std::vector<std::string>>(v, key);
}

void apply(const Values& v, RuntimeOptions& r, ServerOptions& o, PythonHost& py) {
  r.symbols = symbols(v, "symbols");
  r.policy.min_confidence = number(v, "agent_min_confidence");
  r.policy.threshold = number(v, "agent_consensus_threshold");
  r.policy.min_agents = static_cast<int>(integer(v, "min_agents_for_signal"));
  r.signal_generation_interval_s = number(v, "signal_generation_interval");
  r.move_threshold = number(v, "move_threshold");
  r.history_bars = count(v, "history_bars");
  r.bar_seconds = number(v, "bar_seconds");
  r.analyze_on_start = boolean(v, "analyze_on_start");
  r.orchestrator.compute_threads = count(v, "compute_threads");
  r.orchestrator.breaker_faults = static_cast<int>(integer(v, "breaker_faults"));
  r.orchestrator.breaker_cooldown = to_ms(number(v, "breaker_cooldown"));
  r.scoring.horizon_bars = static_cast<int>(integer(v, "score_horizon"));
  r.scoring.cost_bps = number(v, "score_cost_bps");

  py.workers = count(v, "python_workers");
  py.event_queue = count(v, "event_queue");
  py.agent_timeout = to_ms(number(v, "agent_timeout"));

  o.host = text(v, "host");
  o.port = static_cast<std::uint16_t>(integer(v, "port"));
  o.io_threads = count(v, "io_threads");
  o.heartbeat_interval = to_ms(number(v, "ws_heartbeat_interval"));
  o.message_queue_size = count(v, "ws_message_queue_size");
  o.max_connections = count(v, "ws_max_connections");
  o.event_queue_size = count(v, "router_queue");
  o.store_queue_size = count(v, "store_queue");
  o.db = text(v, "db");
  o.store_prices = boolean(v, "store_prices");
  o.commit_interval = to_ms(number(v, "commit_interval"));
  o.retention_days = number(v, "retention_days");
  o.retention_rows = count(v, "retention_rows");
  o.require_auth = boolean(v, "require_auth");
  o.jwt_secret = text(v, "jwt_secret");
  o.jwt_public_key = text(v, "jwt_public_key");
  o.jwt_leeway = std::chrono::seconds(std::llround(number(v, "jwt_leeway")));
  o.admin_token = text(v, "admin_token");
  o.allowed_origins = text(v, "allowed_origins");
  o.tls_cert = text(v, "tls_cert");
  o.tls_key = text(v, "tls_key");
  o.max_connections_per_ip = count(v, "ws_max_connections_per_ip");
  o.max_subscriptions_per_client = count(v, "ws_max_subscriptions");
  o.max_alerts_per_client = count(v, "max_alerts");
  o.alert_max_length = count(v, "alert_max_length");
  o.cache_max_age = count(v, "cache_max_age");
  o.compression = boolean(v, "ws_compression");
  o.compression_window_bits = static_cast<int>(count(v, "ws_compression_window_bits"));
  o.compression_threshold = count(v, "ws_compression_threshold");
  o.max_portfolios_per_client = count(v, "max_portfolios");
  o.max_portfolio_size = count(v, "max_portfolio_size");
  o.analyze_rate.per_second = number(v, "ws_analyze_rate");
  o.analyze_rate.burst = number(v, "ws_analyze_burst");
  o.message_rate.per_second = number(v, "ws_max_messages_per_second");
  o.message_rate.burst = std::max(1.0, 2 * o.message_rate.per_second);
  o.max_message_bytes = count(v, "ws_max_message_size");
  o.handshake_timeout = to_ms(number(v, "ws_handshake_timeout"));
  o.http_header_limit = count(v, "http_max_header");
  o.http_body_limit = count(v, "http_max_body");
  o.max_active_analyses = count(v, "max_active_analyses");
  o.redis_url = text(v, "redis_url");
  o.redis_password = text(v, "redis_password");
  o.node_id = text(v, "node_id");
  o.redis_lease = to_ms(number(v, "redis_lease"));
  o.redis_stream_length = count(v, "redis_stream_length");
}

}  // namespace gs::settings
