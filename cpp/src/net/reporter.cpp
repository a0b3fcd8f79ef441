#include "goldensignals/net/reporter.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "goldensignals/broadcast/protobuf.hpp"
#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/cluster/cluster.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/evaluation/scorer.hpp"
#include "goldensignals/net/server_parts.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/runtime/status.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {

nlohmann::json Reporter::status() const {
  nlohmann::json rooms = nlohmann::json::object();
  for (const auto& [sym, n] : hub_.room_sizes()) rooms[sym] = n;
  // Open sessions by client id (a token's sub, else a uuid each), at most kMaxListed ids.
  constexpr std::size_t kMaxListed = 200;
  std::map<std::string, std::size_t> by_id;
  std::size_t unlisted = 0;
  for (const auto& c : hub_.all_clients()) {
    auto id = c->client_id();
    if (by_id.contains(id) || by_id.size() < kMaxListed) {
      ++by_id[std::move(id)];
    } else {
      ++unlisted;
    }
  }
  nlohmann::json out = runtime_status_json(runtime_);
  out["websocket_manager"] = {{"total_connections", counters_.connections_total.load()},
                              {"active_connections", counters_.connections_active.load()},
                              {"messages_sent", counters_.messages_sent.load()},
                              {"messages_dropped", counters_.messages_dropped.load()},
                              {"slow_consumer_closes", counters_.slow_consumer_closes.load()},
                              {"rooms", std::move(rooms)},
                              {"clients", by_id},
                              {"clients_unlisted", unlisted},
                              {"client_addresses", gate_.addresses()}};
  out["history"] = history_.report();
  out["cluster"] = history_.cluster_report();
  return out;
}
nlohmann::json Reporter::status_update() const {
  nlohmann::json s = status();
  const auto& o = s["orchestrator"];
  nlohmann::json out = {{"running", o["running"]},
                        {"active_analyses", o["active_analyses"]},
                        {"active_agents", o["active_agents"]},
                        {"websocket_connections", counters_.connections_active.load()}};
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

template <class Number>
void metric(std::ostringstream& os, const char* name, const char* type, const char* help,
            Number v) {
  os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
     << name << ' ' << v << '\n';
}

// Each source's track record: the consensus has source="consensus", agents kind="agent".
void scores_metrics(std::ostringstream& os, const Scorer& scorer) {
  const auto scores = scorer.scores();
  auto labels = [](const SourceScore& s) {
    return std::string("{source=\"") + label(s.name) + "\",kind=\"" +
           (s.consensus ? "consensus" : "agent") + "\"}";
  };
  os << "# HELP gs_forecasts_scored_total Signals and BUY/SELL votes whose horizon closed.\n"
        "# TYPE gs_forecasts_scored_total counter\n";
  for (const auto& s : scores)
    os << "gs_forecasts_scored_total" << labels(s) << ' ' << s.scored << '\n';
  os << "# HELP gs_forecast_hits_total Scored forecasts whose direction was right.\n"
        "# TYPE gs_forecast_hits_total counter\n";
  for (const auto& s : scores) os << "gs_forecast_hits_total" << labels(s) << ' ' << s.hits << '\n';
  os << "# HELP gs_forecast_recent_hit_rate Hit rate over the last scored forecasts (the window).\n"
        "# TYPE gs_forecast_recent_hit_rate gauge\n";
  for (const auto& s : scores) {
    if (s.recent > 0) {
      os << "gs_forecast_recent_hit_rate" << labels(s) << ' ' << fmt_num(s.recent_hit_rate) << '\n';
    }
  }
  os << "# HELP gs_forecast_recent_brier Brier score of the confidence over the last scored "
        "forecasts.\n# TYPE gs_forecast_recent_brier gauge\n";
  for (const auto& s : scores) {
    if (s.recent > 0) {
      os << "gs_forecast_recent_brier" << labels(s) << ' ' << fmt_num(s.recent_brier) << '\n';
    }
  }
}

}  // namespace

std::string Reporter::metrics() const {
  std::ostringstream os;
  const auto& k = counters_;
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
  metric(os, "gs_protobuf_unmapped_total", "counter",
         "Keys of server messages that proto/goldensignals.proto has no field for, left out of "
         "?format=protobuf frames (a schema behind its server).",
         pb::unmapped_total());
  metric(os, "gs_http_requests_total", "counter", "Plain HTTP requests answered.",
         k.http_requests.load());
  metric(os, "gs_events_dropped_total", "counter",
         "Price events shed before broadcast because the event queue was full.",
         k.events_dropped.load());

  if (const auto* cluster = history_.cluster.get()) {
    const auto c = cluster->stats();
    std::size_t owned = 0;
    for (const auto& [symbol, node] : c.owners) owned += node == c.node_id ? 1 : 0;
    metric(os, "gs_cluster_redis_up", "gauge", "1 while the cluster's Redis answers.",
           c.connected ? 1 : 0);
    metric(os, "gs_cluster_nodes", "gauge", "Live nodes this node sees.", c.nodes.size());
    metric(os, "gs_cluster_symbols_owned", "gauge", "Symbols this node owns and analyzes.", owned);
    metric(os, "gs_cluster_published_total", "counter",
           "Room messages this node published through Redis as their symbol's owner.", c.published);
    metric(os, "gs_cluster_relayed_total", "counter",
           "Room messages relayed from Redis to this node's clients.", c.relayed);
    metric(os, "gs_cluster_duplicates_total", "counter",
           "Arrivals dropped because their seq was already relayed.", c.duplicates);
    metric(os, "gs_cluster_gap_filled_total", "counter",
           "Messages read back from a Stream to fill a gap.", c.gaps_filled);
    metric(os, "gs_cluster_gap_lost_total", "counter",
           "Messages of a gap the Stream no longer had.", c.gaps_lost);
    metric(os, "gs_cluster_stale_refused_total", "counter",
           "Publishes refused because this node's lease token was stale.", c.stale_refused);
    metric(os, "gs_cluster_resubscribes_total", "counter",
           "Times the subscriber connection subscribed (again).", c.resubscribes);
    metric(os, "gs_cluster_leases_lost_total", "counter",
           "Leases this node found taken or expired.", c.lost);
  }
  if (const auto* store = history_.store.get()) {
    const auto h = store->stats();
    metric(os, "gs_history_degraded", "gauge",
           "1 while the history store cannot write (messages go out unstored) or a write has "
           "waited 5 s or more for the disk.",
           h.degraded ? 1 : 0);
    metric(os, "gs_history_written_total", "counter", "Room messages committed to the history.",
           h.written);
    metric(os, "gs_history_unstored_total", "counter",
           "Room messages broadcast without being stored (history degraded).", h.unstored);
    metric(os, "gs_history_queued", "gauge", "Room messages waiting for the history commit.",
           h.queued);
    metric(os, "gs_history_write_waiting_seconds", "gauge",
           "How long the history write in progress has waited for the disk (0: none).",
           h.write_waiting_s);
  }
  const auto& sec = counters_.security;
  os << "# HELP gs_security_refusals_total Upgrades and requests refused, by reason "
        "(401 token reasons, 403 forbidden_origin, 429 per IP, 401 admin_required).\n"
        "# TYPE gs_security_refusals_total counter\n";
  for (std::size_t i = 0; i < sec.refused.size(); ++i) {
    os << "gs_security_refusals_total{reason=\"" << refusal_name(static_cast<Refusal>(i)) << "\"} "
       << sec.refused[i].load() << '\n';
  }
  metric(os, "gs_websocket_message_flood_closes_total", "counter",
         "Clients closed with 1008 for sending faster than WS_MAX_MESSAGES_PER_SECOND.",
         sec.message_flood_closes.load());
  metric(os, "gs_websocket_oversize_closes_total", "counter",
         "Clients closed with 1009 for a message over WS_MAX_MESSAGE_SIZE.",
         sec.oversize_closes.load());
  metric(os, "gs_websocket_token_expired_closes_total", "counter",
         "Clients closed with 1008 when their token expired.", sec.token_expired_closes.load());
  metric(os, "gs_analyze_rate_limited_total", "counter",
         "analyze requests over a client's token bucket (alert rate_limited).",
         sec.rate_limited.load());
  metric(os, "gs_analyses_refused_total", "counter",
         "analyze requests refused at GS_MAX_ACTIVE_ANALYSES (alert server_busy).",
         sec.analyses_refused.load());
  metric(os, "gs_forbidden_total", "counter",
         "Requests outside the token's scope or symbols (alert forbidden).", sec.forbidden.load());
  metric(os, "gs_subscriptions_refused_total", "counter",
         "subscribe requests over WS_MAX_SUBSCRIPTIONS (alert too_many_subscriptions).",
         sec.subscriptions_refused.load());
  metric(os, "gs_handshake_timeouts_total", "counter",
         "Connections closed for not completing a request or upgrade within "
         "WS_HANDSHAKE_TIMEOUT.",
         sec.handshake_timeouts.load());
  metric(os, "gs_http_too_large_total", "counter",
         "Requests refused with 413 (body) or 431 (headers).", sec.http_too_large.load());
  metric(os, "gs_websocket_client_addresses", "gauge",
         "Client addresses with open WebSocket sessions.", gate_.addresses());

  auto& orch = runtime_.orchestrator();
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

  if (const auto* scorer = runtime_.scorer()) scores_metrics(os, *scorer);

  // Bucket bounds in seconds (Prometheus convention); the histograms keep milliseconds.
  static constexpr double kBoundsMs[] = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000, 5000};
  os << "# HELP gs_agent_latency_seconds Time from an agent's start to its answer (a timeout "
        "is no answer: gs_agent_faults_total).\n"
        "# TYPE gs_agent_latency_seconds histogram\n";
  for (const auto& a : stats) {
    const auto& h = a.latency;
    const auto n = label(a.name);
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
