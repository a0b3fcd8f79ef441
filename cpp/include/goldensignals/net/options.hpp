// Every limit of the WebSocket/HTTP server in one place, each with its default and why.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gs {

// Token bucket: `per_second` tokens refill continuously, at most `burst` saved up.
struct RateLimit {
  double per_second = 5.0;  // a dashboard clicking "analyze" is far below this
  double burst = 10.0;      // lets a client analyse its whole watch-list at connect
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback by default: exposing the server is a decision
  std::uint16_t port = 8000;       // 0 picks a free port (tests, several servers on one host)
  std::size_t io_threads = 1;      // one network thread keeps the other core for agents

  std::chrono::milliseconds heartbeat_interval{30'000};  // WS_HEARTBEAT_INTERVAL; idle close at 2x
  std::size_t message_queue_size = 1000;      // WS_MESSAGE_QUEUE_SIZE: past it a reader is too slow
  std::size_t max_connections = 1000;         // WS_MAX_CONNECTIONS: more are refused with 503
  std::size_t max_message_bytes = 64 * 1024;  // client frames past this close with 1009
  std::size_t max_subscriptions_per_client = 100;  // rooms one client may join (bounds fan-out)
  RateLimit analyze_rate;                          // analyses are the expensive request
  RateLimit message_rate{100.0, 200.0};      // WS_MAX_MESSAGES_PER_SECOND: past it, close 1008
  std::size_t max_connections_per_ip = 100;  // WS_MAX_CONNECTIONS_PER_IP: more get 429
  std::size_t max_active_analyses = 64;    // GS_MAX_ACTIVE_ANALYSES: server-wide; more are refused
  std::size_t max_alerts_per_client = 20;  // GS_MAX_ALERTS: custom alerts per client (or subject)
  std::size_t alert_max_length = 256;      // GS_ALERT_MAX_LENGTH: characters of a condition
  std::size_t max_portfolios_per_client = 5;  // GS_MAX_PORTFOLIOS
  std::size_t max_portfolio_size = 50;        // GS_MAX_PORTFOLIO_SIZE: positions in one
  // permessage-deflate on /ws/signals when a client offers it (GS_WS_COMPRESSION), without
  // server context takeover so each message is compressed once for all its recipients; at
  // most 2^window_bits of window, and messages under `threshold` bytes go uncompressed.
  bool compression = true;
  int compression_window_bits = 15;         // GS_WS_COMPRESSION_WINDOW_BITS: 9-15
  std::size_t compression_threshold = 256;  // GS_WS_COMPRESSION_THRESHOLD: bytes
  std::size_t cache_max_age = 1;  // GS_CACHE_MAX_AGE: seconds /api/snapshot and /api/bars may be
                                  // cached (Cache-Control: max-age)

  std::size_t http_body_limit = 64 * 1024;    // our endpoints take no bodies; refuse uploads
  std::size_t http_header_limit = 16 * 1024;  // enough for cookies and a JWT, not for abuse
  std::chrono::milliseconds handshake_timeout{10'000};  // HTTP upgrade and WebSocket close
  std::chrono::milliseconds read_timeout{30'000};       // an idle keep-alive HTTP connection
  std::chrono::milliseconds close_timeout{5'000};       // a peer that never reads its close frame
  std::size_t event_queue_size = 10'000;  // GS_ROUTER_QUEUE: journaled, awaiting the network
                                          // thread; past it prices drop and the store waits
  std::size_t store_queue_size = 10'000;  // GS_STORE_QUEUE: awaiting the history's commit
  int socket_send_buffer = 0;             // SO_SNDBUF per client in bytes; 0 keeps the OS default

  // Many nodes (cluster/): empty redis_url is one node.
  std::string redis_url;       // GS_REDIS_URL: redis://[[user]:password@]host[:port][/db]
  std::string redis_password;  // GS_REDIS_PASSWORD: instead of a password in the URL
  std::string node_id;         // GS_NODE_ID: empty: host name:port
  std::chrono::milliseconds redis_lease{3000};  // GS_REDIS_LEASE: a dead owner's symbols move
  std::size_t redis_stream_length = 10'000;     // GS_REDIS_STREAM_LENGTH: kept per symbol

  // Security (docs/security.md). With no JWT key configured, tokens are not looked at.
  bool require_auth = false;            // GS_REQUIRE_AUTH: every upgrade needs a valid token
  std::string jwt_secret;               // GS_JWT_SECRET: key of HS256/384/512 tokens
  std::string jwt_public_key;           // GS_JWT_PUBLIC_KEY: PEM file for RS*/ES* tokens
  std::chrono::seconds jwt_leeway{30};  // GS_JWT_LEEWAY: clock skew allowed on exp and nbf
  std::string admin_token;              // GS_ADMIN_TOKEN: /ws/status and /metrics need it when set
  std::string allowed_origins;  // GS_ALLOWED_ORIGINS: '' or '*' any, 'self', or a comma list
  std::string tls_cert;         // GS_TLS_CERT: PEM certificate chain; with tls_key, TLS only
  std::string tls_key;          // GS_TLS_KEY: PEM private key

  std::string web_root;  // directory of static files for GET /; empty serves a built-in page

  // Signal history (SignalStore). `db` empty: off (no history, no recovery; seq restarts at 1).
  std::string db;                        // GS_DB: the SQLite file
  bool store_prices = false;             // GS_STORE_PRICES: store price_update too
  double retention_days = 30;            // GS_RETENTION_DAYS: older messages are deleted
  std::size_t retention_rows = 100'000;  // GS_RETENTION_ROWS: messages kept per symbol
  // GS_COMMIT_INTERVAL: from the start of one commit to the next, at least (group commit).
  std::chrono::milliseconds commit_interval{5};

  // Throws InvalidArgument naming the field, the value and the accepted range.
  void validate() const;
};

}  // namespace gs
