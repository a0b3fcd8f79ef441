// The documents a server reports about itself, built from its context on demand: the
// GET /ws/status object (and the status_update reply), /health's history object, and the
// /metrics text. The sessions and the HTTP routes ask for them; nothing else builds them.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gs {

struct ServerContext;

namespace report {

// The GET /ws/status object (docs/protocol.md).
[[nodiscard]] nlohmann::json status(const ServerContext& ctx);
// status_update data: the status object plus running, active_analyses, active_agents and
// websocket_connections at the top.
[[nodiscard]] nlohmann::json status_update(const ServerContext& ctx);
// The "history" object of /ws/status and /health: status ok|degraded|off and figures.
[[nodiscard]] nlohmann::json history(const ServerContext& ctx);
// Prometheus text exposition format, version 0.0.4.
[[nodiscard]] std::string metrics(const ServerContext& ctx);

}  // namespace report
}  // namespace gs
