// What every session of one server shares, as parts (net/server_parts.hpp), and the narrow
// view of them each kind of session gets. Only the Server sees the whole context.
#pragma once

#include <memory>

#include "goldensignals/broadcast/bus.hpp"
#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/net/options.hpp"
#include "goldensignals/net/reporter.hpp"
#include "goldensignals/net/server_parts.hpp"
#include "goldensignals/net/ticker.hpp"
#include "goldensignals/watch/watch_book.hpp"

namespace gs {

class Runtime;

struct ServerContext {
  ServerContext(ServerOptions o, std::shared_ptr<Runtime> rt);
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  const ServerOptions opts;
  const std::shared_ptr<Runtime> runtime;
  const ServerLog log;
  const AccessControl access;
  ServerCounters counters;
  SessionGate gate;
  RoomHub hub;
  Ticker ticker;             // the WebSocket sessions' deadlines
  watch::WatchBook watches;  // the clients' custom alerts; the bus shows it every room message
  std::unique_ptr<Bus> bus;  // where room messages go once journaled: LocalBus over `hub`
  // Declared after the hub and the bus it publishes to, so the store stops first.
  History history;
  const Analyses analyses;
  const Reporter reporter;

  // The views, into the parts above.
  const ClientParts client_parts;
  const WebSocketParts websocket_parts;
  const HttpRouteParts route_parts;
  const HttpParts http_parts;
  const RouterParts router_parts;
};

}  // namespace gs
