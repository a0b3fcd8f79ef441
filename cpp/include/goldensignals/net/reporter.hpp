// The documents a server reports about itself, built on demand from the parts they describe:
// the GET /ws/status object (and the status_update reply), /health's history object, and
// the /metrics text. Sessions and the HTTP routes ask it; nothing else builds them.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gs {

class RoomHub;
class Runtime;
class SessionGate;
struct History;
struct ServerCounters;

class Reporter {
 public:
  Reporter(Runtime& runtime, const RoomHub& hub, const ServerCounters& counters,
           const SessionGate& gate, const History& history)
      : runtime_(runtime), hub_(hub), counters_(counters), gate_(gate), history_(history) {}

  // The GET /ws/status object (docs/protocol.md).
  [[nodiscard]] nlohmann::json status() const;
  // status_update data: the status object plus running, active_analyses, active_agents and
  // websocket_connections at the top.
  [[nodiscard]] nlohmann::json status_update() const;
  // Prometheus text exposition format, version 0.0.4.
  [[nodiscard]] std::string metrics() const;

 private:
  Runtime& runtime_;
  const RoomHub& hub_;
  const ServerCounters& counters_;
  const SessionGate& gate_;
  const History& history_;
};

}  // namespace gs
