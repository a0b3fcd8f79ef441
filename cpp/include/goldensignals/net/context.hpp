// What every session of one server shares: options, the runtime, the rooms, the counters.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "goldensignals/broadcast/bus.hpp"
#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/net/auth.hpp"
#include "goldensignals/net/security.hpp"
#include "goldensignals/net/options.hpp"

namespace boost::asio::ssl {
class context;
}

namespace gs {

class Runtime;
class Journal;
class SignalStore;

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
};

struct ServerContext {
  ServerContext(ServerOptions o, std::shared_ptr<Runtime> rt);

  const ServerOptions opts;
  const std::shared_ptr<Runtime> runtime;
  const JwtVerifier verifier;  // from jwt_secret / jwt_public_key (the key file is read once)
  // From tls_cert / tls_key (read once; InvalidArgument naming a bad file); null: plain TCP.
  const std::shared_ptr<boost::asio::ssl::context> tls;

  // Server log records, under goldensignals.websocket_orchestrator (as the original clients
  // configure logging).
  void log(int level, const std::string& message) const;
  [[nodiscard]] bool logs(int level) const;
  RoomHub hub;
  std::unique_ptr<Bus> bus;  // where room messages go once journaled: LocalBus over `hub`
  ServerCounters counters;
  mutable SecurityCounters security;  // counted from const paths too (HTTP answers)
  IpTable per_ip;                     // open WebSocket sessions per client address
  std::atomic<bool> stopping{false};
  std::atomic<int> paced_replays{0};  // paced replays running (ClientHandler::replay)
  // A WebSocket session (connections_active) or a paced replay counts itself out, so that
  // wait_idle() waits on a condition rather than polling.
  void connection_closed();
  void replay_ended();
  // Waits until no WebSocket session is open (or `deadline`), then until no paced replay
  // runs (they notice `stopping` within 50 ms). Server::stop().
  void wait_idle(std::chrono::steady_clock::time_point deadline);
  // The signal history (null when ServerOptions::db is empty). Declared after the hub and
  // the bus it publishes to, so it stops first.
  std::shared_ptr<SignalStore> store;
  // Where room messages are numbered (and kept): the store, or a MemoryJournal without one.
  std::shared_ptr<Journal> journal;

  // Stored signals of `symbol`, newest first (signal_update data objects, each with its
  // seq), at most `limit`, with seq < before (0: no bound). Throws gs::Error when history
  // is off or unreadable.
  [[nodiscard]] nlohmann::json signal_history(const std::string& symbol, std::size_t limit,
                                              std::uint64_t before) const;
  // (Its status, history and metrics documents: net/reporter.hpp.)

 private:
  void wake_idle_waiter();
  std::mutex idle_mu_;  // only for idle_cv_
  std::condition_variable idle_cv_;
};

}  // namespace gs
