#include "goldensignals/net/context.hpp"

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {

void ServerContext::log(int level, const std::string& message) const {
  runtime->log(level, "goldensignals.websocket_orchestrator", message);
}

bool ServerContext::logs(int level) const { return runtime->logs(level); }

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

ServerContext::ServerContext(ServerOptions o, std::shared_ptr<Runtime> rt)
    : opts(std::move(o)),
      runtime(std::move(rt)),
      verifier(JwtVerifier::from_options(opts)),
      tls(make_tls_context(opts)),
      bus(std::make_unique<LocalBus>(hub)) {}
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
void ServerContext::connection_closed() {
  counters.connections_active.fetch_sub(1);
  wake_idle_waiter();
}

void ServerContext::replay_ended() {
  paced_replays.fetch_sub(1);
  wake_idle_waiter();
}

void ServerContext::wake_idle_waiter() {
  { std::lock_guard lk(idle_mu_); }  // a waiter between its check and its wait gets the notify
  idle_cv_.notify_all();
}

void ServerContext::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lk(idle_mu_);
  idle_cv_.wait_until(lk, deadline, [&] { return counters.connections_active.load() == 0; });
  idle_cv_.wait(lk, [&] { return paced_replays.load() == 0; });
}

}  // namespace gs
