// The parts of a server that its sessions use, each a small piece with one job, and the
// narrow views each kind of session is given (docs/development.md, "Layout"). A ServerContext
// (net/context.hpp) owns the parts; a session holds only its view, which keeps the context
// alive without letting the session reach anything its view does not name.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "goldensignals/market/snapshot.hpp"
#include "goldensignals/net/auth.hpp"
#include "goldensignals/net/options.hpp"
#include "goldensignals/net/security.hpp"

namespace boost::asio::ssl {
class context;
}

namespace gs {

namespace watch {
class WatchBook;
}

class Bus;
class Journal;
class RedisCluster;
class Reporter;
class RoomHub;
class Ticker;
class Runtime;
class SignalStore;
struct StoredMessage;

struct ServerCounters {
  std::atomic<std::uint64_t> connections_total{0};     // WebSocket sessions ever accepted
  std::atomic<std::uint64_t> connections_active{0};    // open WebSocket sessions (slots held)
  std::atomic<std::uint64_t> connections_rejected{0};  // upgrades refused with 503
  std::atomic<std::uint64_t> messages_sent{0};         // frames fully written
  std::atomic<std::uint64_t> messages_dropped{0};      // replaced prices and slow-consumer drops
  std::atomic<std::uint64_t> slow_consumer_closes{0};  // clients closed with 1008
  std::atomic<std::uint64_t> idle_closes{0};           // clients closed with 1001 for silence
  std::atomic<std::uint64_t> bad_requests{0};          // client messages answered with an alert
  std::atomic<std::uint64_t> http_requests{0};         // plain HTTP requests answered
  std::atomic<std::uint64_t> events_dropped{0};  // price events shed before broadcast (overload)
  SecurityCounters security;                     // refusals and protective closes
};

// Server log records, under goldensignals.websocket_orchestrator (as the original clients
// configure logging), through the runtime's logger.
class ServerLog {
 public:
  explicit ServerLog(Runtime& runtime) : runtime_(&runtime) {}
  void operator()(int level, const std::string& message) const;
  [[nodiscard]] bool enabled(int level) const;

 private:
  Runtime* runtime_;
};

// Who may use the server, and over what: token checks, the origin allowlist, the admin
// token, and TLS. Built once from the options; key and certificate files are read then
// (InvalidArgument naming a bad one).
class AccessControl {
 public:
  explicit AccessControl(const ServerOptions& o);

  // TLS for every connection, or null for plain TCP.
  [[nodiscard]] boost::asio::ssl::context* tls() const noexcept { return tls_.get(); }
  // A token that is present is always verified when the server has a key; an absent one is
  // refused only when GS_REQUIRE_AUTH is on. ok with empty claims: let in without a token.
  [[nodiscard]] AuthResult check(std::string_view token) const;
  // GS_ADMIN_TOKEN unset, the admin token itself, or a JWT with scope 'admin'.
  [[nodiscard]] bool admin_allowed(std::string_view token) const;
  // GS_ALLOWED_ORIGINS (security.hpp's origin_allowed).
  [[nodiscard]] bool origin_allowed(std::string_view origin, std::string_view host, bool tls) const;

 private:
  std::string allowed_origins_;
  std::string admin_token_;
  bool require_auth_;
  JwtVerifier verifier_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
};

// Sessions in and out: the stop flag, the connection slots (in total and per client
// address), and the paced replays. Server::stop() waits on it for every session to go.
class SessionGate {
 public:
  SessionGate(const ServerOptions& o, ServerCounters& counters)
      : max_connections_(o.max_connections),
        max_per_address_(o.max_connections_per_ip),
        counters_(counters) {}

  [[nodiscard]] bool stopping() const noexcept { return stopping_.load(); }
  void set_stopping(bool on) noexcept { stopping_.store(on); }

  // A slot of max_connections for a new WebSocket session, or false at the limit (counted
  // as rejected). Whoever got one gives it back with connection_closed().
  [[nodiscard]] bool open_connection();
  void connection_closed();
  [[nodiscard]] std::size_t max_connections() const noexcept { return max_connections_; }
  // One of `peer`'s max_connections_per_ip slots, or an empty one at the limit.
  [[nodiscard]] IpTable::Slot hold_address(const std::string& peer);
  [[nodiscard]] std::size_t max_per_address() const noexcept { return max_per_address_; }
  [[nodiscard]] std::size_t addresses() const { return per_ip_.addresses(); }

  // A place for a paced replay, or false when `limit` already run. A replay that got one
  // gives it back with replay_ended().
  [[nodiscard]] bool start_replay(int limit);
  void replay_ended();

  // Waits until no WebSocket session is open (or `deadline`), then until no paced replay
  // runs (they notice stopping() within 50 ms).
  void wait_idle(std::chrono::steady_clock::time_point deadline);

 private:
  void wake_idle_waiter();

  const std::size_t max_connections_;
  const std::size_t max_per_address_;
  ServerCounters& counters_;  // connections_active and connections_rejected
  IpTable per_ip_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> paced_replays_{0};
  std::mutex idle_mu_;  // only for idle_cv_
  std::condition_variable idle_cv_;
};

// Where room messages are numbered (and kept), and what sessions read back. The server sets
// them before it serves: the store (null when GS_DB is off), the cluster while it serves
// with GS_REDIS_URL (else null), and the journal (the cluster, else the store, else a
// MemoryJournal).
struct History {
  std::shared_ptr<SignalStore> store;
  std::shared_ptr<RedisCluster> cluster;
  std::shared_ptr<Journal> journal;

  [[nodiscard]] bool enabled() const noexcept { return store != nullptr; }
  // Stored signals of `symbol`, newest first (signal_update data objects, each with its seq),
  // at most `limit`, with seq < before (0: no bound). Throws gs::Error when history is off
  // or unreadable.
  [[nodiscard]] nlohmann::json signals(const std::string& symbol, std::size_t limit,
                                       std::uint64_t before) const;
  // Stored messages of `symbol` from `from_ms` to `to_ms`, oldest first, at most `limit`.
  // Throws gs::Error when history is off or unreadable.
  [[nodiscard]] std::vector<StoredMessage> window(const std::string& symbol, std::int64_t from_ms,
                                                  std::int64_t to_ms, std::size_t limit) const;
  // The "history" object of /ws/status and /health: status ok|degraded|off and figures.
  [[nodiscard]] nlohmann::json report() const;
  // The "cluster" object of /ws/status and /health: off, or this node, the nodes, the owners.
  [[nodiscard]] nlohmann::json cluster_report() const;
  // The history cannot be written, or the cluster's Redis cannot be reached.
  [[nodiscard]] bool degraded() const;
};

// The analyses a client may ask for: the symbols tracked, how many run, and starting one.
class Analyses {
 public:
  Analyses(Runtime& runtime, const History& history) : runtime_(&runtime), history_(&history) {}
  [[nodiscard]] const std::vector<std::string>& symbols() const;
  [[nodiscard]] std::size_t active() const;
  // Starts an analysis of `symbol` or joins the one running; its room receives the results.
  // One node of many passes it to the symbol's owner. Throws gs::Error when the runtime
  // cannot.
  void start(const std::string& symbol) const;
  // The symbol's market state now (bars, indicators, last price); null before any data.
  // Throws UnknownSymbol for a symbol not tracked.
  [[nodiscard]] SnapshotPtr market(const std::string& symbol) const;

 private:
  Runtime* runtime_;
  const History* history_;
};

// --- What each kind of session gets ------------------------------------------------------

// A client's protocol handler: its limits, the rooms, history, analyses, the status report.
struct ClientParts {
  const ServerOptions& opts;
  ServerCounters& counters;
  RoomHub& hub;
  const History& history;
  SessionGate& gate;  // paced replays, stopping
  const Analyses& analyses;
  const Reporter& reporter;
  watch::WatchBook& watches;  // custom alerts
};

// A WebSocket session: its limits and timeouts, the rooms, the gate it counts itself out of.
struct WebSocketParts {
  const ServerOptions& opts;
  const ServerLog& log;
  ServerCounters& counters;
  RoomHub& hub;
  SessionGate& gate;
  Ticker& ticker;  // its heartbeats and deadlines
  const ClientParts& client;
};

// The plain HTTP answers: access checks, history, the reports, static files.
struct HttpRouteParts {
  const ServerOptions& opts;  // web_root, cache_max_age
  const AccessControl& access;
  ServerCounters& counters;
  const History& history;
  const Reporter& reporter;
  const Analyses& analyses;  // the market state of /api/snapshot and /api/bars
  const RoomHub& hub;        // the latest signal of /api/snapshot
};

// An HTTP connection: its limits, TLS and access checks, the gate an upgrade passes, and what
// it hands to the routes and to the WebSocket session it upgrades to.
struct HttpParts {
  const ServerOptions& opts;
  const ServerLog& log;
  const AccessControl& access;
  ServerCounters& counters;
  SessionGate& gate;
  Ticker& ticker;  // its deadlines (a request's read, a response's write, the TLS handshake)
  const HttpRouteParts& routes;
  const WebSocketParts& websocket;
};

// The event router: the journal and the bus its messages go through, its bound, its drops.
struct RouterParts {
  std::size_t event_queue_size;
  int outcome_horizon_bars;  // signal_outcome's horizon (0: scoring off)
  ServerCounters& counters;
  const History& history;
  Bus& bus;
};

// A view that keeps its owner alive: `part` lives inside `*owner`.
template <class Part, class Owner>
std::shared_ptr<const Part> share_part(const std::shared_ptr<Owner>& owner, const Part& part) {
  return std::shared_ptr<const Part>(owner, &part);
}

}  // namespace gs
