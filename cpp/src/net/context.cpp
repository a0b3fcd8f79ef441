#include "goldensignals/net/context.hpp"

#include <algorithm>
#include <chrono>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/net/ws_wire.hpp"
#include "goldensignals/runtime/runtime.hpp"

namespace gs {

namespace {

// What a symbol's first custom alert starts from: the market state's last price and volume
// and its indicators, and the room's latest signal.
watch::WatchBook::Seed watch_seed(Runtime& runtime, RoomHub& hub) {
  return [r = &runtime, h = &hub](const std::string& symbol) {
    watch::Facts f;
    if (const auto snap = r->snapshot(symbol)) {
      f.price = snap->price;
      if (snap->size() > 0) f.volume = snap->volume.back();
      f.indicators = snap->indicators;
    }
    if (const auto last = h->snapshot(symbol)) {
      const auto j = nlohmann::json::parse(last->json(), nullptr, false);
      if (j.is_object() && j.contains("data") && j["data"].is_object()) {
        watch::apply_signal(f, j["data"]);
      }
    }
    return f;
  };
}

// A tenth of the shortest deadline a session keeps, between 5 ms and 1 s.
std::chrono::milliseconds tick_resolution(const ServerOptions& o) {
  const auto shortest =
      std::min({o.heartbeat_interval, o.close_timeout, o.handshake_timeout, o.read_timeout});
  return std::clamp(shortest / 10, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
}
}  // namespace

ServerContext::ServerContext(ServerOptions o, std::shared_ptr<Runtime> rt)
    : opts(std::move(o)),
      runtime(std::move(rt)),
      log(*runtime),
      access(opts),
      gate(opts, counters),
      ticker(tick_resolution(opts)),
      watches(watch_seed(*runtime, hub),
              [r = runtime.get()](const std::string& symbol) { return r->indicators(symbol); }),
      bus(std::make_unique<LocalBus>(
          hub, [w = &watches](const std::string& symbol, MessageKind kind,
                              const std::string& f) { w->on_room_message(symbol, kind, f); })),
      analyses(*runtime, history),
      reporter(*runtime, hub, counters, gate, history),
      client_parts{opts, counters, hub, history, gate, analyses, reporter, watches},
      websocket_parts{opts, log, counters, hub, gate, ticker, client_parts},
      route_parts{opts, access, counters, history, reporter, analyses, hub},
      http_parts{opts, log, access, counters, gate, ticker, route_parts, websocket_parts},
      router_parts{opts.event_queue_size,
                   runtime->scorer() ? runtime->scorer()->options().horizon_bars : 0, counters,
                   history, *bus} {
  // Checked here, where it can be told: an upgrade that finds no SHA-1 is refused with 500.
  if (!ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==")) {
    throw Error(
        "cannot serve WebSocket: OpenSSL gives no SHA-1 for Sec-WebSocket-Accept (is its "
        "default provider loaded? see OPENSSL_CONF)");
  }
}

}  // namespace gs
