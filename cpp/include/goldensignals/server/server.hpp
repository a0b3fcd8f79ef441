// The WebSocket/HTTP server around one Runtime: the composition root of listener, sessions,
// rooms, bus and the runtime sink. Beast stays out of this header.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/server/options.hpp"

namespace gs {

class Runtime;

// Counters since construction (they survive stop/start).
struct ServerStats {
  std::uint64_t total_connections = 0;     // WebSocket sessions accepted
  std::uint64_t active_connections = 0;    // open now
  std::uint64_t rejected_connections = 0;  // upgrades refused with 503
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t slow_consumer_closes = 0;
  std::uint64_t idle_closes = 0;
  std::uint64_t bad_requests = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t events_dropped = 0;
  std::map<std::string, std::size_t> rooms;  // symbol -> subscribers
};

class Server {
 public:
  // Validates `opts` (InvalidArgument). The runtime is started and stopped by its owner.
  Server(ServerOptions opts, std::shared_ptr<Runtime> runtime);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the io threads; throws gs::Error naming host:port if the port is taken,
  // StateError if already running. Thread-safe; may be called again after stop().
  void start();
  // Graceful: stops accepting, closes every client with 1001, waits for them (at most
  // close_timeout), then stops the io threads. Idempotent; not from an io thread.
  void stop();

  [[nodiscard]] bool running() const;
  [[nodiscard]] std::uint16_t port() const;  // the bound port (useful with port 0)
  [[nodiscard]] const ServerOptions& options() const noexcept;
  [[nodiscard]] ServerStats stats() const;
  // stats().messages_sent without the rest: cheap enough to poll while publishing.
  [[nodiscard]] std::uint64_t messages_sent() const noexcept;
  [[nodiscard]] nlohmann::json status() const;  // the GET /ws/status object
  [[nodiscard]] std::string metrics() const;    // the GET /metrics text

  // Publishes a message as the runtime would: `body` is one JSON object text (without seq);
  // room kinds go to `symbol`'s room with the next seq, others to every client.
  void publish(const std::string& symbol, MessageKind kind, std::string body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gs
