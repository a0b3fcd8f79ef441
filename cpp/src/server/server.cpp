#include "goldensignals/server/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstring>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>
#include <vector>

#include "goldensignals/cluster/cluster.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/thread_name.hpp"
#include "goldensignals/net/context.hpp"
#include "goldensignals/net/event_router.hpp"
#include "goldensignals/net/http_session.hpp"
#include "goldensignals/net/listener.hpp"
#include "goldensignals/net/protocol.hpp"
#include "goldensignals/net/ws_wire.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {

namespace {

// A system alert to every client of this node (history or cluster trouble, and recovery).
void system_alert(ServerContext& c, bool trouble, std::string_view code_bad,
                  std::string_view code_good, const std::string& text) {
  c.log(trouble ? 40 : 20, text);
  const proto::Problem p{std::string(trouble ? code_bad : code_good),
                         trouble ? "critical" : "info", text};
  c.bus->publish_all(
      std::make_shared<const std::string>(proto::alert(p, {{"alert_type", "system"}})),
      MessageKind::Alert);
}
}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, std::shared_ptr<Runtime> rt)
      : ctx(std::make_shared<ServerContext>(std::move(o), std::move(rt))) {
    if (!ctx->opts.db.empty()) {
      open_store();
      ctx->history.journal = ctx->history.store;
    } else {
      ctx->history.journal = std::make_shared<MemoryJournal>(std::bind_front(&Impl::deliver, this));
    }
    if (!ctx->opts.redis_url.empty()) make_cluster();
  }

  void open_store();
  // With GS_REDIS_URL: the cluster is the journal (connected while serving).
  void make_cluster();
  void start_cluster();
  // What the journal delivers: to the router's strand while serving (`wait`: for room
  // there, when the journal holds no lock), else to the bus on the caller's thread.
  void deliver(std::vector<Journal::Step> steps, bool wait);

  void beat();

  std::shared_ptr<ServerContext> ctx;
  std::shared_ptr<RedisCluster> cluster;  // null: one node

  mutable std::mutex mu;  // start/stop and the members below; never held by an io thread
  std::unique_ptr<asio::io_context> ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::shared_ptr<Listener> listener;
  std::shared_ptr<EventRouter> router;
  // The router the store hands committed messages to while serving (null: run them on the
  // store's thread). Its own lock: the store's thread takes it while stop() holds `mu`. Held
  // across a hand-over, which may wait for room on the strand (stop() ends such a wait with
  // close_hand_over() before it takes the lock); never across I/O.
  std::mutex handoff_mu;
  std::shared_ptr<EventRouter> handoff;
  std::unique_ptr<asio::steady_timer> heartbeat;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  bool running = false;
};

// After each commit the store hands its messages to the router's strand, to be fanned out on
// the network thread (when not serving, to the bus on the store's thread), and raises a system
// alert when history becomes degraded (and when it recovers). It lives in ctx, which outlives
// every session.
void Server::Impl::open_store() {
  const auto& o = ctx->opts;
  StoreOptions so;
  so.path = o.db;
  so.store_prices = o.store_prices;
  so.commit_interval = o.commit_interval;
  so.retention_days = o.retention_days;
  so.retention_rows = o.retention_rows;
  so.queue_size = o.store_queue_size;
  ServerContext* c = ctx.get();
  ctx->history.store = std::make_shared<SignalStore>(
      so, std::bind_front(&Impl::deliver, this), [c](bool degraded, const std::string& text) {
        system_alert(*c, degraded, "history_degraded", "history_recovered", text);
      });
  try {
    for (const auto& m : ctx->history.store->latest_signals())
      ctx->hub.prime_snapshot(m.symbol, m.json);
  } catch (const Error& e) {
    ctx->log(30, std::string("no snapshots from history: ") + e.what());
  }
}

void Server::Impl::make_cluster() {
  const auto& o = ctx->opts;
  ClusterOptions co;
  co.redis = parse_redis_url(o.redis_url);  // InvalidArgument naming GS_REDIS_URL
  if (!o.redis_password.empty()) co.redis.password = o.redis_password;
  co.node_id = o.node_id;
  co.symbols = ctx->runtime->symbols();
  co.lease = o.redis_lease;
  co.stream_length = o.redis_stream_length;
  co.queue_size = o.event_queue_size;
  RedisCluster::Hooks h;
  ServerContext* c = ctx.get();
  // Without a store, relayed messages go to this node's rooms on the cluster's strand.
  h.deliver = [c](std::vector<Journal::Step> steps, bool) { run_steps(*c->bus, steps); };
  h.analyze = [c](const std::string& symbol) {
    try {
      (void)c->runtime->analyze(symbol);
    } catch (const Error& e) {
      c->log(30, "an analyze request for " + symbol + " passed on to this node failed: " +
                     e.what());
    }
  };
  h.notify = [c](bool degraded, const std::string& text) {
    system_alert(*c, degraded, "cluster_degraded", "cluster_recovered", text);
  };
  h.log = [c](int level, const std::string& text) { c->log(level, text); };
  cluster = std::make_shared<RedisCluster>(std::move(co), ctx->history.store, std::move(h));
  ctx->history.cluster = cluster;
  ctx->history.journal = cluster;
}

void Server::Impl::start_cluster() {
  std::string node = ctx->opts.node_id;
  if (node.empty()) {  // host name:port
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "node");
    node = std::string(host) + ":" + std::to_string(port);
  }
  cluster->start(*ioc, node);
  // Only the owner of a symbol analyzes it (the filter may outlive the cluster: it holds
  // the ownership flags, not the cluster).
  ctx->runtime->set_analysis_filter(
      [own = cluster->ownership()](const std::string& symbol) { return own->owns(symbol); });
}

void Server::Impl::deliver(std::vector<Journal::Step> steps, bool wait) {
  {
    std::lock_guard lk(handoff_mu);
    if (handoff) {
      handoff->hand_over(std::move(steps), wait);
      return;
    }
  }
  run_steps(*ctx->bus, steps);
}

void Server::Impl::beat() {
  heartbeat->expires_after(ctx->opts.heartbeat_interval);
  heartbeat->async_wait([this](error_code ec) {
    if (ec) return;
    router->post({}, MessageKind::Heartbeat, proto::heartbeat());  // serialized once for all
    beat();
  });
}

Server::Server(ServerOptions opts, std::shared_ptr<Runtime> runtime) {
  if (!runtime) throw InvalidArgument("Server: runtime is null; pass the Runtime to serve");
  opts.validate();
  impl_ = std::make_unique<Impl>(std::move(opts), std::move(runtime));
}

Server::~Server() {
  try {
    stop();
  } catch (...) {
    // Destructors do not throw; stop() only throws when misused from an io thread.
  }
  // The store's thread is joined here, on the owner's thread: a session it still holds in a
  // callback can never make it destroy itself.
  impl_->ctx->history.journal.reset();  // a MemoryJournal delivers through this Impl
  impl_->ctx->history.cluster.reset();
  impl_->cluster.reset();
  impl_->ctx->history.store.reset();
}

void Server::start() {
  auto& m = *impl_;
  std::lock_guard lk(m.mu);
  if (m.running)
    throw StateError("Server::start: already running on port " + std::to_string(m.port));
  auto ioc = std::make_unique<asio::io_context>(static_cast<int>(m.ctx->opts.io_threads));
  const tcp::endpoint ep(asio::ip::make_address(m.ctx->opts.host), m.ctx->opts.port);
  auto parts = share_part(m.ctx, m.ctx->http_parts);
  auto listener = std::make_shared<Listener>(
      *ioc, ep, [parts](tcp::socket s) { std::make_shared<HttpSession>(std::move(s), parts)->run(); },
      m.ctx->opts.io_threads);  // throws, naming host:port, when the port is taken
  m.ctx->gate.set_stopping(false);
  m.router = std::make_shared<EventRouter>(share_part(m.ctx, m.ctx->router_parts),
                                           asio::make_strand(*ioc));
  m.heartbeat = std::make_unique<asio::steady_timer>(asio::make_strand(*ioc));
  m.ctx->ticker.start(asio::make_strand(*ioc));
  m.work.emplace(ioc->get_executor());
  m.listener = std::move(listener);
  m.port = m.listener->port();
  m.ioc = std::move(ioc);
  m.listener->run();
  m.beat();
  if (m.cluster) m.start_cluster();
  m.ctx->runtime->add_sink(m.router);
  {
    std::lock_guard hk(m.handoff_mu);
    m.handoff = m.router;
  }
  for (std::size_t i = 0; i < m.ctx->opts.io_threads; ++i) {
    m.threads.emplace_back([ioc = m.ioc.get()] {
      name_this_thread("gs-io");
      ioc->run();
    });
  }
  m.running = true;
  m.ctx->log(20, "serving on " + m.ctx->opts.host + ":" + std::to_string(m.port));
}

void Server::stop() {
  auto& m = *impl_;
  std::lock_guard lk(m.mu);
  if (!m.running) return;
  for (const auto& t : m.threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      throw StateError("Server::stop: called from one of its io threads; call it from another");
    }
  }
  m.ctx->gate.set_stopping(true);
  m.ctx->log(20, "stopping: closing " + std::to_string(m.ctx->counters.connections_active.load()) +
                     " clients with 1001");
  m.ctx->runtime->remove_sink(m.router.get());
  m.router->stop();
  m.listener->stop();
  m.ctx->history.journal->flush();  // whatever clients were sent is on disk
  if (m.cluster) {
    m.ctx->runtime->set_analysis_filter(nullptr);
    m.cluster->stop();  // its leases given back: other nodes take its symbols at once
  }
  for (const auto& c : m.ctx->hub.all_clients()) c->close(ws::kGoingAway, "server shutdown");
  // Wait for the close handshakes; a client that never answers is dropped by close_timeout.
  m.ctx->gate.wait_idle(std::chrono::steady_clock::now() + m.ctx->opts.close_timeout +
                        m.ctx->ticker.resolution() + std::chrono::milliseconds(500));
  asio::post(m.heartbeat->get_executor(), [t = m.heartbeat.get()] { t->cancel(); });
  m.ctx->ticker.stop();
  m.work.reset();
  m.ioc->stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  // The journal's hand-overs the strand did not get to run here, in order; later ones run on
  // the thread that delivers them (close first: a hand-over waiting for room holds
  // handoff_mu).
  m.router->close_hand_over();
  {
    std::lock_guard hk(m.handoff_mu);
    m.router->run_left_over();
    m.handoff.reset();
  }
  m.listener.reset();
  m.heartbeat.reset();
  m.ctx->ticker.release();
  m.router.reset();
  m.ioc.reset();  // destroys what was still queued (sessions of clients that never closed)
  m.running = false;
}

bool Server::running() const {
  std::lock_guard lk(impl_->mu);
  return impl_->running;
}

std::uint16_t Server::port() const {
  std::lock_guard lk(impl_->mu);
  return impl_->port;
}

const ServerOptions& Server::options() const noexcept { return impl_->ctx->opts; }

ServerStats Server::stats() const {
  const auto& k = impl_->ctx->counters;
  ServerStats s;
  s.total_connections = k.connections_total.load();
  s.active_connections = k.connections_active.load();
  s.rejected_connections = k.connections_rejected.load();
  s.messages_sent = k.messages_sent.load();
  s.messages_dropped = k.messages_dropped.load();
  s.slow_consumer_closes = k.slow_consumer_closes.load();
  s.idle_closes = k.idle_closes.load();
  s.bad_requests = k.bad_requests.load();
  s.http_requests = k.http_requests.load();
  s.events_dropped = k.events_dropped.load();
  s.rooms = impl_->ctx->hub.room_sizes();
  return s;
}

std::uint64_t Server::messages_sent() const noexcept {
  return impl_->ctx->counters.messages_sent.load();
}

nlohmann::json Server::status() const { return impl_->ctx->reporter.status(); }

std::string Server::metrics() const { return impl_->ctx->reporter.metrics(); }

void Server::publish(const std::string& symbol, MessageKind kind, std::string body) {
  std::shared_ptr<EventRouter> r;
  {
    std::lock_guard lk(impl_->mu);
    r = impl_->router;
  }
  if (r) r->post(symbol, kind, std::move(body));
}

}  // namespace gs
