#include "goldensignals/net/server_parts.hpp"

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include "goldensignals/cluster/cluster.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {

void ServerLog::operator()(int level, const std::string& message) const {
  runtime_->log(level, "goldensignals.websocket_orchestrator", message);
}

bool ServerLog::enabled(int level) const { return runtime_->logs(level); }

namespace {

// TLS 1.2 and 1.3 only, the certificate chain and key from PEM files.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ServerOptions& o) {
  if (o.tls_cert.empty()) return nullptr;
  namespace ssl = boost::asio::ssl;
  auto c = std::make_shared<ssl::context>(ssl::context::tls_server);
  c->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                 ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                 ssl::context::single_dh_use);
  boost::system::error_code ec;
  c->use_certificate_chain_file(o.tls_cert, ec);
  if (ec) {
    throw InvalidArgument("GS_TLS_CERT '" + o.tls_cert + "' is not accepted: " + ec.message() +
                          "; expected a PEM certificate chain");
  }
  c->use_private_key_file(o.tls_key, ssl::context::pem, ec);
  if (ec) {
    throw InvalidArgument("GS_TLS_KEY '" + o.tls_key + "' is not accepted: " + ec.message() +
                          "; expected the PEM private key of GS_TLS_CERT");
  }
  return c;
}

}  // namespace

AccessControl::AccessControl(const ServerOptions& o)
    : allowed_origins_(o.allowed_origins),
      admin_token_(o.admin_token),
      require_auth_(o.require_auth),
      verifier_(JwtVerifier::from_options(o)),
      tls_(make_tls_context(o)) {}

AuthResult AccessControl::check(std::string_view token) const {
  if (verifier_.enabled() && (!token.empty() || require_auth_)) return verifier_.verify(token);
  AuthResult anonymous;
  anonymous.ok = true;
  return anonymous;
}

bool AccessControl::admin_allowed(std::string_view token) const {
  if (admin_token_.empty()) return true;
  if (token.empty()) return false;
  if (constant_time_equal(token, admin_token_)) return true;
  if (!verifier_.enabled()) return false;
  const auto r = verifier_.verify(token);
  return r.ok && r.principal.scope && r.principal.scope->contains("admin");
}

bool AccessControl::origin_allowed(std::string_view origin, std::string_view host, bool tls) const {
  return gs::origin_allowed(allowed_origins_, origin, host, tls);
}

bool SessionGate::open_connection() {
  // Reserve first, so concurrent upgrades can never overshoot the limit.
  if (counters_.connections_active.fetch_add(1) < max_connections_) return true;
  connection_closed();
  counters_.connections_rejected.fetch_add(1);
  return false;
}

void SessionGate::connection_closed() {
  counters_.connections_active.fetch_sub(1);
  wake_idle_waiter();
}

IpTable::Slot SessionGate::hold_address(const std::string& peer) {
  return per_ip_.acquire(peer, max_per_address_);
}

bool SessionGate::start_replay(int limit) {
  if (paced_replays_.fetch_add(1) < limit) return true;
  replay_ended();
  return false;
}

void SessionGate::replay_ended() {
  paced_replays_.fetch_sub(1);
  wake_idle_waiter();
}

void SessionGate::wake_idle_waiter() {
  {
    std::lock_guard lk(idle_mu_);
  }  // a waiter between its check and its wait gets the notify
  idle_cv_.notify_all();
}

void SessionGate::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lk(idle_mu_);
  idle_cv_.wait_until(lk, deadline, [&] { return counters_.connections_active.load() == 0; });
  idle_cv_.wait(lk, [&] { return paced_replays_.load() == 0; });
}

namespace {

const SignalStore& readable(const std::shared_ptr<SignalStore>& store) {
  if (!store) {
    throw StateError("history is off on this server (GS_DB is off); start it with GS_DB=PATH");
  }
  return *store;
}

}  // namespace

nlohmann::json History::signals(const std::string& symbol, std::size_t limit,
                                std::uint64_t before) const {
  auto out = nlohmann::json::array();
  for (const auto& m : readable(store).signals(symbol, limit, before)) {
    auto j = nlohmann::json::parse(m.json, nullptr, false);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_object()) continue;
    auto data = std::move(j["data"]);
    data["seq"] = m.seq;
    out.push_back(std::move(data));
  }
  return out;
}

std::vector<StoredMessage> History::window(const std::string& symbol, std::int64_t from_ms,
                                           std::int64_t to_ms, std::size_t limit) const {
  return readable(store).window(symbol, from_ms, to_ms, limit);
}

nlohmann::json History::report() const {
  if (!store) return {{"status", "off"}};
  const auto s = store->stats();
  return {{"status", s.degraded ? "degraded" : "ok"},
          {"reason", s.reason},
          {"path", store->options().path},
          {"written", s.written},
          {"unstored", s.unstored},
          {"withheld", s.withheld},
          {"write_waiting_s", s.write_waiting_s},
          {"commits", s.commits},
          {"queued", s.queued},
          {"shed", s.shed},
          {"express", s.express},
          {"retention_deleted", s.retained_deleted}};
}

nlohmann::json History::cluster_report() const {
  if (!cluster) return {{"status", "off"}};
  const auto s = cluster->stats();
  nlohmann::json owned = nlohmann::json::array();
  for (const auto& [symbol, node] : s.owners) {
    if (node == s.node_id) owned.push_back(symbol);
  }
  return {{"status", s.connected ? "ok" : "degraded"},
          {"node_id", s.node_id},
          {"redis", s.redis},
          {"nodes", s.nodes},
          {"owners", s.owners},
          {"owned", std::move(owned)},
          {"epochs", s.epochs},
          {"published", s.published},
          {"relayed", s.relayed},
          {"duplicates", s.duplicates},
          {"gaps_filled", s.gaps_filled},
          {"gaps_lost", s.gaps_lost},
          {"stale_refused", s.stale_refused},
          {"retries_applied", s.retries_applied},
          {"dropped_unowned", s.dropped_unowned},
          {"shed", s.shed},
          {"resubscribes", s.resubscribes},
          {"epoch_changes", s.epoch_changes},
          {"leases_acquired", s.acquired},
          {"leases_released", s.released},
          {"leases_lost", s.lost}};
}

bool History::degraded() const {
  return (store && store->degraded()) || (cluster && !cluster->stats().connected);
}

const std::vector<std::string>& Analyses::symbols() const { return runtime_->symbols(); }

std::size_t Analyses::active() const { return runtime_->orchestrator().counters().active_analyses; }

SnapshotPtr Analyses::market(const std::string& symbol) const { return runtime_->snapshot(symbol); }

void Analyses::start(const std::string& symbol) const {
  if (history_->cluster) {
    history_->cluster->request_analysis(symbol);
  } else {
    runtime_->analyze(symbol);
  }
}

}  // namespace gs
