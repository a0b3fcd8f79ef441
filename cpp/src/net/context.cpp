#include "goldensignals/net/context.hpp"

#include "goldensignals/runtime/runtime.hpp"

namespace gs {

ServerContext::ServerContext(ServerOptions o, std::shared_ptr<Runtime> rt)
    : opts(std::move(o)),
      runtime(std::move(rt)),
      log(*runtime),
      access(opts),
      gate(opts, counters),
      bus(std::make_unique<LocalBus>(hub)),
      analyses(*runtime, history),
      reporter(*runtime, hub, counters, gate, history),
      client_parts{opts, counters, hub, history, gate, analyses, reporter},
      websocket_parts{opts, log, counters, hub, gate, client_parts},
      route_parts{opts, access, counters, history, reporter},
      http_parts{opts, log, access, counters, gate, route_parts, websocket_parts},
      router_parts{opts.event_queue_size,
                   runtime->scorer() ? runtime->scorer()->options().horizon_bars : 0, counters,
                   history, *bus} {}

}  // namespace gs
