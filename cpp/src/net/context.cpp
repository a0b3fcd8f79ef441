#include "goldensignals/net/context.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/runtime/status.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {

void AgentLatencyBook::record(const std::string& agent, double ms) {
  std::lock_guard lk(mu_);
  by_agent_[agent].record(ms);
}

std::map<std::string, LatencyHistogram> AgentLatencyBook::snapshot() const {
  std::lock_guard lk(mu_);
  return by_agent_;
}

void ServerContext::log(int level, const std::string& message) const {
  runtime->log(level, "goldensignals.websocket_orchestrator", message);
}

bool ServerContext::logs(int level) const { return runtime->logs(level); }

ServerContext::ServerContext(ServerOptions o, std::shared_ptr<Runtime> rt)
    : opts(std::move(o)), runtime(std::move(rt)), bus(std::make_unique<LocalBus>(hub)) {}

nlohmann::json ServerContext::status() const {
  nlohmann::json rooms = nlohmann::json::object();
  for (const auto& [sym, n] : hub.room_sizes()) rooms[sym] = n;
  nlohmann::json out = runtime_status_json(*runtime);
  out["websocket_manager"] = {{"total_connections", counters.connections_total.load()},
                              {"active_connections", counters.connections_active.load()},
                              {"messages_sent", counters.messages_sent.load()},
                              {"messages_dropped", counters.messages_dropped.load()},
                              {"slow_consumer_closes", counters.slow_consumer_closes.load()},
                              {"rooms", std::move(rooms)}};
  out["history"] = history_status();
  return out;
}

nlohmann::json ServerContext::history_status() const {
  if (!store) return {{"status", "off"}};
  const auto s = store->stats();
  return {{"status", s.degraded ? "degraded" : "ok"},
          {"reason", s.reason},
          {"path", store->options().path},
          {"written", s.written},
          {"unstored", s.unstored},
          {"commits", s.commits},
          {"queued", s.queued},
          {"shed", s.shed},
          {"retention_deleted", s.retained_deleted}};
}

nlohmann::json ServerContext::signal_history(const std::string& symbol, std::size_t limit,
                                             std::uint64_t before) const {
  if (!store) {
    throw StateError("history is off on this server (GS_DB is off); start it with GS_DB=PATH");
  }
  auto out = nlohmann::json::array();
  for (const auto& m : store->signals(symbol, limit, before)) {
    auto j = nlohmann::json::parse(m.json, nullptr, false);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_object()) continue;
    auto data = std::move(j["data"]);
    data["seq"] = m.seq;
    out.push_back(std::move(data));
  }
  return out;
}

nlohmann::json ServerContext::status_update() const {
  nlohmann::json s = status();
  const auto& o = s["orchestrator"];
  nlohmann::json out = {{"running", o["running"]},
                        {"active_analyses", o["active_analyses"]},
                        {"active_agents", o["active_agents"]},
                        {"websocket_connections", counters.connections_active.load()}};
  for (auto& [k, v] : s.items()) out[k] = std::move(v);
  return out;
}

namespace {

std::string label(const std::string& v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

void metric(std::ostringstream& os, const char* name, const char* type, const char* help,
            std::uint64_t v) {
  os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
     << name << ' ' << v << '\n';
}

}  // namespace

std::string ServerContext::metrics() const {
  std::ostringstream os;
  const auto& k = counters;
  metric(os, "gs_websocket_connections_active", "gauge", "Open WebSocket connections.",
         k.connections_active.load());
  metric(os, "gs_websocket_connections_total", "counter", "WebSocket connections accepted.",
         k.connections_total.load());
  metric(os, "gs_websocket_connections_rejected_total", "counter",
         "WebSocket upgrades refused because the server was full (503).",
         k.connections_rejected.load());
  metric(os, "gs_websocket_messages_sent_total", "counter", "Messages written to clients.",
         k.messages_sent.load());
  metric(os, "gs_websocket_messages_dropped_total", "counter",
         "Messages not delivered (superseded price updates, slow consumers).",
         k.messages_dropped.load());
  metric(os, "gs_websocket_slow_consumer_closes_total", "counter",
         "Clients closed with 1008 because their queue was full.", k.slow_consumer_closes.load());
  metric(os, "gs_websocket_idle_closes_total", "counter",
         "Clients closed with 1001 after two silent heartbeat intervals.", k.idle_closes.load());
  metric(os, "gs_websocket_bad_requests_total", "counter",
         "Client messages answered with an error alert.", k.bad_requests.load());
  metric(os, "gs_http_requests_total", "counter", "Plain HTTP requests answered.",
         k.http_requests.load());
  metric(os, "gs_events_dropped_total", "counter",
         "Price events shed before broadcast because the event queue was full.",
         k.events_dropped.load());

  if (store) {
    const auto h = store->stats();
    metric(os, "gs_history_degraded", "gauge",
           "1 while the history store cannot write (messages go out unstored).",
           h.degraded ? 1 : 0);
    metric(os, "gs_history_written_total", "counter", "Room messages committed to the history.",
           h.written);
    metric(os, "gs_history_unstored_total", "counter",
           "Room messages broadcast without being stored (history degraded).", h.unstored);
    metric(os, "gs_history_queued", "gauge", "Room messages waiting for the history commit.",
           h.queued);
  }

  auto& orch = runtime->orchestrator();
  const auto c = orch.counters();
  metric(os, "gs_analyses_started_total", "counter", "Analyses started.", c.analyses_started);
  metric(os, "gs_analyses_completed_total", "counter", "Analyses completed.", c.analyses_completed);
  metric(os, "gs_signals_generated_total", "counter", "Analyses that produced a signal.",
         c.signals_generated);
  metric(os, "gs_analyses_active", "gauge", "Analyses in flight.", c.active_analyses);

  const auto stats = orch.agent_stats();
  os << "# HELP gs_agent_calls_total Calls per agent.\n# TYPE gs_agent_calls_total counter\n";
  for (const auto& a : stats)
    os << "gs_agent_calls_total{agent=\"" << label(a.name) << "\"} " << a.calls << '\n';
  os << "# HELP gs_agent_faults_total Agent faults by kind.\n# TYPE gs_agent_faults_total "
        "counter\n";
  for (const auto& a : stats) {
    const auto n = label(a.name);
    os << "gs_agent_faults_total{agent=\"" << n << "\",kind=\"timeout\"} " << a.timeouts << '\n'
       << "gs_agent_faults_total{agent=\"" << n << "\",kind=\"error\"} " << a.errors << '\n'
       << "gs_agent_faults_total{agent=\"" << n << "\",kind=\"late\"} " << a.late << '\n';
  }
  os << "# HELP gs_agent_enabled 1 while the agent's circuit breaker lets it vote.\n"
        "# TYPE gs_agent_enabled gauge\n";
  for (const auto& a : stats)
    os << "gs_agent_enabled{agent=\"" << label(a.name) << "\"} " << (a.enabled ? 1 : 0) << '\n';

  // Bucket bounds in seconds (Prometheus convention); the book keeps milliseconds.
  static constexpr double kBoundsMs[] = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000, 5000};
  os << "# HELP gs_agent_latency_seconds Time from an agent's start to its answer.\n"
        "# TYPE gs_agent_latency_seconds histogram\n";
  for (const auto& [name, h] : latencies.snapshot()) {
    const auto n = label(name);
    for (double b : kBoundsMs) {
      os << "gs_agent_latency_seconds_bucket{agent=\"" << n << "\",le=\"" << fmt_num(b / 1000.0)
         << "\"} " << h.count_at_most(b) << '\n';
    }
    os << "gs_agent_latency_seconds_bucket{agent=\"" << n << "\",le=\"+Inf\"} " << h.count() << '\n'
       << "gs_agent_latency_seconds_sum{agent=\"" << n << "\"} " << fmt_num(h.sum_ms() / 1000.0)
       << '\n'
       << "gs_agent_latency_seconds_count{agent=\"" << n << "\"} " << h.count() << '\n';
  }
  return os.str();
}

}  // namespace gs
