#include "goldensignals/net/client_handler.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/net/reporter.hpp"
#include "goldensignals/net/server_parts.hpp"
#include "goldensignals/net/ws_wire.hpp"
#include "goldensignals/store/history_reader.hpp"
#include "goldensignals/store/journal.hpp"
#include "goldensignals/store/signal_store.hpp"
#include "goldensignals/watch/watch_book.hpp"

namespace gs {

namespace {

constexpr int kMaxPacedReplays = 8;

// A stored room message as a replay: {"replay":true, + the stored frame. Not a room message
// (a Reply): it never replaces, and is never replaced by, a live price in the client's queue.
MessagePtr replayed(const StoredMessage& m, const std::string& symbol) {
  return make_message(MessageKind::Reply, "{\"replay\":true," + m.json.substr(1), symbol);
}

// The replay_complete that ends a replay, stamped when it is sent.
void send_complete(Subscriber& client, nlohmann::json& done) {
  done["timestamp"] = iso8601_ms(now_ms());
  client.send(make_message(MessageKind::Reply, done.dump()));
}

// A paced replay: the stored messages one by one, each after its stored gap / speed (at
// most 5 s), waited out by a timer on the connection's executor, then replay_complete. It ends
// early when the client goes or the server stops (noticed within 50 ms); however it ends, it
// counts itself out of the SessionGate (Server::stop waits for none to run).
class PacedReplay : public std::enable_shared_from_this<PacedReplay> {
 public:
  PacedReplay(SessionGate* gate, std::weak_ptr<Subscriber> client,
              boost::asio::any_io_executor executor, std::vector<StoredMessage> rows,
              nlohmann::json done, std::string symbol, double speed)
      : gate_(gate),
        client_(std::move(client)),
        timer_(std::move(executor)),
        rows_(std::move(rows)),
        done_(std::move(done)),
        symbol_(std::move(symbol)),
        speed_(speed) {}
  ~PacedReplay() { gate_->replay_ended(); }
  PacedReplay(const PacedReplay&) = delete;
  PacedReplay& operator=(const PacedReplay&) = delete;

  void start() { send_next(); }

 private:
  using Clock = std::chrono::steady_clock;

  // Sends the next stored message (or, after the last, replay_complete) and waits out the
  // gap to the one after it.
  void send_next() {
    auto me = client_.lock();
    if (!me || gate_->stopping()) return;
    if (next_ < rows_.size()) {
      if (me->send(replayed(rows_[next_], symbol_)) == SendStatus::Closed) return;
      ++next_;
    }
    if (next_ == rows_.size()) {
      send_complete(*me, done_);
      return;
    }
    const double gap_ms = static_cast<double>(rows_[next_].ts_ms - rows_[next_ - 1].ts_ms) / speed_;
    due_ = Clock::now() +
           std::chrono::duration_cast<Clock::duration>(
               std::chrono::duration<double, std::milli>(std::clamp(gap_ms, 0.0, 5000.0)));
    wait();
  }

  // In steps of at most 50 ms, so a stopping server or a client gone is noticed.
  void wait() {
    timer_.expires_at(std::min(due_, Clock::now() + std::chrono::milliseconds(50)));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->gate_->stopping() || self->client_.expired()) return;
      if (Clock::now() < self->due_) {
        self->wait();
      } else {
        self->send_next();
      }
    });
  }

  SessionGate* gate_;
  std::weak_ptr<Subscriber> client_;
  boost::asio::steady_timer timer_;
  std::vector<StoredMessage> rows_;
  nlohmann::json done_;
  std::string symbol_;
  double speed_;
  std::size_t next_ = 0;
  Clock::time_point due_{};
};

}  // namespace

ClientHandler::ClientHandler(std::shared_ptr<const ClientParts> parts,
                             std::weak_ptr<Subscriber> self, boost::asio::any_io_executor executor,
                             std::string fallback_id, Principal who)
    : parts_(std::move(parts)),
      self_(std::move(self)),
      executor_(std::move(executor)),
      client_id_(who.sub.empty() ? std::move(fallback_id) : who.sub),
      analyze_bucket_(parts_->opts.analyze_rate),
      message_bucket_(parts_->opts.message_rate) {
  if (!who.sub.empty() || who.exp || who.scope || who.symbols) {
    who_ = std::make_unique<const Principal>(std::move(who));
  }
}

const Principal& ClientHandler::who() const {
  static const Principal kAnyone;
  return who_ ? *who_ : kAnyone;
}

void ClientHandler::on_open(const std::optional<std::string>& symbol) {
  reply(proto::welcome(client_id_));
  restore_alerts();
  restore_portfolios();
  if (symbol && subscribe(*symbol)) analyze(*symbol);
}

void ClientHandler::on_text(std::string_view text) {
  if (admit_message()) handle(proto::parse_text(text));
}

void ClientHandler::on_binary(std::string_view bytes, WireFormat format) {
  if (!admit_message()) return;
  handle(format == WireFormat::Protobuf ? proto::parse_protobuf(bytes)
                                        : proto::parse_binary(bytes));
}

bool ClientHandler::admit_message() {
  if (flooded_) return false;
  double retry_after = 0.0;
  if (message_bucket_.take(retry_after)) return true;
  flooded_ = true;
  parts_->counters.security.message_flood_closes.fetch_add(1);
  if (auto me = self_.lock()) me->close(ws::kPolicyViolation, "message flood");
  return false;
}

// The token's scope and symbols claims; an alert `forbidden` when outside them.
bool ClientHandler::allowed(std::string_view action, const std::string& symbol) {
  std::string why;
  if (!who().may(action)) {
    why = "the token's scope does not include '" + std::string(action) + "'";
  } else if (!who().may_join(symbol)) {
    why = "the token's symbols do not include " + symbol;
  } else {
    return true;
  }
  parts_->counters.security.forbidden.fetch_add(1);
  problem({"forbidden", "error", "cannot " + std::string(action) + " " + symbol + ": " + why},
          {{"symbol", symbol}});
  return false;
}

void ClientHandler::on_closed() {
  parts_->watches.remove_all(this);
  parts_->watches.remove_all_portfolios(this);
  auto* me = self_.lock().get();
  for (const auto& s : rooms_) parts_->hub.leave(s, me);
  rooms_.clear();
}

void ClientHandler::handle(const proto::Parsed& parsed) {
  if (const auto* p = std::get_if<proto::Problem>(&parsed)) {
    problem(*p);
    return;
  }
  const auto& r = std::get<proto::Request>(parsed);
  switch (r.command) {
    case proto::Command::Subscribe:
      portfolio_rooms_.erase(r.symbol);  // the client wants it on its own now
      subscribe(r.symbol, r.since, r.epoch);
      break;
    case proto::Command::Unsubscribe:
      portfolio_rooms_.erase(r.symbol);
      unsubscribe(r.symbol);
      break;
    case proto::Command::Analyze:
      analyze(r.symbol);
      break;
    case proto::Command::GetStatus:
      reply(nlohmann::json{{"type", "status_update"}, {"data", parts_->reporter.status_update()}}
                .dump());
      break;
    case proto::Command::Heartbeat:
      reply(proto::heartbeat_ack());
      break;
    case proto::Command::Ping:
      reply(proto::pong());
      break;
    case proto::Command::History:
      history(r);
      break;
    case proto::Command::Replay:
      replay(r);
      break;
    case proto::Command::AddAlert:
      add_alert(r);
      break;
    case proto::Command::RemoveAlert:
      remove_alert(r);
      break;
    case proto::Command::ListAlerts:
      list_alerts();
      break;
    case proto::Command::SubscribePortfolio:
      subscribe_portfolio(r);
      break;
    case proto::Command::UnsubscribePortfolio:
      unsubscribe_portfolio(r);
      break;
    case proto::Command::ListPortfolios:
      list_portfolios();
      break;
  }
}

bool ClientHandler::subscribe(const std::string& symbol, std::optional<std::uint64_t> since,
                              const std::optional<std::string>& epoch) {
  auto me = self_.lock();
  if (!me) return false;
  if (!allowed("subscribe", symbol)) return false;
  if (!rooms_.contains(symbol) && rooms_.size() >= parts_->opts.max_subscriptions_per_client) {
    parts_->counters.security.subscriptions_refused.fetch_add(1);
    problem({"too_many_subscriptions", "error",
             "cannot subscribe to " + symbol + ": already in " + std::to_string(rooms_.size()) +
                 " rooms, the limit per client; unsubscribe from one first"},
            {{"symbol", symbol}, {"limit", parts_->opts.max_subscriptions_per_client}});
    return false;
  }
  rooms_.insert(symbol);
  if (since) {
    // The journal answers with the messages after `since` up to the last it handed over,
    // and `then` joins the room at that point of the hand-over (on the router's strand, or
    // at once when nothing is kept), before the later ones: no gap and no duplicate. At
    // most half the send queue, so a recovery never trips the slow-consumer limit; more is
    // recovered: false (the client asks GET /api/signals).
    const auto max = std::max<std::size_t>(1, parts_->opts.message_queue_size / 2);
    std::weak_ptr<Subscriber> weak = self_;
    // `then` runs on the router's strand (which holds the context), on the journal's thread
    // when not serving (the context owns the journal), or here; at a stop it may be dropped
    // unrun.
    // A `since` of another epoch (its history was lost and began anew) is never recovered:
    // the client starts over from the snapshot.
    RoomHub* hub = &parts_->hub;
    Journal* journal = parts_->history.journal.get();
    journal->recover(
        symbol, *since, max,
        [hub, journal, weak, symbol, epoch](bool ok, std::vector<Journal::Entry> kept) {
          auto s = weak.lock();
          if (!s) return;
          const auto current = journal->epoch(symbol);
          if (epoch && !current.empty() && *epoch != current) {
            ok = false;
            kept.clear();
          }
          std::vector<MessagePtr> missed;
          missed.reserve(kept.size());
          for (auto& e : kept) {
            missed.push_back(make_message(e.kind, std::move(e.json), symbol));
          }
          hub->join(symbol, s,
                    make_message(MessageKind::Reply,
                                 proto::confirmation("subscribe", symbol, ok, current)),
                    missed, !ok);
        });
    return true;
  }
  parts_->hub.join(symbol, me,
                   make_message(MessageKind::Reply,
                                proto::confirmation("subscribe", symbol, std::nullopt,
                                                    parts_->history.journal->epoch(symbol))));
  return true;
}

void ClientHandler::history(const proto::Request& r) {
  nlohmann::json data;
  try {
    data = parts_->history.signals(r.symbol, r.limit, r.before);
  } catch (const Error& e) {
    problem({"unavailable", "error", std::string("history of ") + r.symbol + ": " + e.what()},
            {{"symbol", r.symbol}});
    return;
  }
  reply(nlohmann::json{{"type", "history"}, {"symbol", r.symbol}, {"data", std::move(data)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void ClientHandler::replay(const proto::Request& r) {
  // At most half the send queue at once: a replay never trips the slow-consumer limit.
  const auto max = std::max<std::size_t>(1, parts_->opts.message_queue_size / 2);
  std::vector<StoredMessage> rows;
  try {
    rows = parts_->history.window(r.symbol, r.from_ms, r.to_ms, max + 1);
  } catch (const Error& e) {
    problem({"unavailable", "error", std::string("replay of ") + r.symbol + ": " + e.what()},
            {{"symbol", r.symbol}});
    return;
  }
  const bool truncated = rows.size() > max;
  if (truncated) rows.resize(max);
  nlohmann::json done{
      {"type", "replay_complete"}, {"symbol", r.symbol},   {"from", iso8601_ms(r.from_ms)},
      {"to", iso8601_ms(r.to_ms)}, {"count", rows.size()}, {"truncated", truncated},
      {"speed", r.speed}};
  if (truncated) done["next_from"] = iso8601_ms(rows.back().ts_ms);
  if (r.speed <= 0) {
    auto me = self_.lock();
    if (!me) return;
    for (const auto& m : rows) me->send(replayed(m, r.symbol));
    send_complete(*me, done);
    return;
  }
  // Paced: at most kMaxPacedReplays per server at once.
  if (!parts_->gate.start_replay(kMaxPacedReplays)) {
    problem({"rate_limited", "warning",
             "replay of " + r.symbol + ": " + std::to_string(kMaxPacedReplays) +
                 " paced replays already run on this server; retry later or use speed 0"},
            {{"symbol", r.symbol}, {"retry_after", 1.0}});
    return;
  }
  std::make_shared<PacedReplay>(&parts_->gate, self_, executor_, std::move(rows), std::move(done),
                                r.symbol, r.speed)
      ->start();
}

void ClientHandler::unsubscribe(const std::string& symbol) {
  rooms_.erase(symbol);
  parts_->hub.leave(symbol, self_.lock().get());
  reply(proto::confirmation("unsubscribe", symbol));  // idempotent: confirmed even if not a member
}

bool ClientHandler::tracked(const std::string& symbol, std::string_view action) {
  const auto& all = parts_->analyses.symbols();
  if (std::find(all.begin(), all.end(), symbol) != all.end()) return true;
  std::string list;
  for (const auto& t : all) list += (list.empty() ? "" : ", ") + t;
  problem({"invalid_symbol", "error",
           "cannot " + std::string(action) + " " + symbol +
               ": not tracked by this server; tracked: " + list},
          {{"symbol", symbol}});
  return false;
}

void ClientHandler::analyze(const std::string& symbol) {
  if (!tracked(symbol, "analyze")) return;
  if (!allowed("analyze", symbol)) return;
  double retry_after = 0.0;
  if (!analyze_bucket_.take(retry_after)) {
    parts_->counters.security.rate_limited.fetch_add(1);
    problem({"rate_limited", "warning",
             "too many analyze requests; at most " + fmt_num(parts_->opts.analyze_rate.per_second) +
                 " per second (burst " + fmt_num(parts_->opts.analyze_rate.burst) + ")"},
            {{"symbol", symbol}, {"retry_after", retry_after}});
    return;
  }
  // Server-wide bound: a new analysis past max_active_analyses is refused (one already in
  // flight for the symbol is joined by the orchestrator, so this only stops new work).
  const auto active = parts_->analyses.active();
  if (active >= parts_->opts.max_active_analyses) {
    parts_->counters.security.analyses_refused.fetch_add(1);
    problem(
        {"server_busy", "warning",
         "cannot analyze " + symbol + " now: " + std::to_string(active) +
             " analyses are running, the server's limit (GS_MAX_ACTIVE_ANALYSES); retry "
             "shortly"},
        {{"symbol", symbol}, {"retry_after", 1.0}, {"limit", parts_->opts.max_active_analyses}});
    return;
  }
  if (!rooms_.contains(symbol) && !subscribe(symbol)) return;
  try {
    parts_->analyses.start(symbol);  // starts or joins; the room receives the results
  } catch (const Error& e) {
    problem({"unavailable", "error", std::string("cannot analyze ") + symbol + ": " + e.what()},
            {{"symbol", symbol}});
    return;
  }
  reply(proto::info("analysis_started", "Analysis started for " + symbol, {{"symbol", symbol}}));
}

// --- custom alerts -----------------------------------------------------------------------

namespace {
constexpr const char* kAlertKind = "alert";
constexpr const char* kPortfolioKind = "portfolio";

nlohmann::json positions_json(const std::map<std::string, double>& positions) {
  auto j = nlohmann::json::object();
  for (const auto& [s, w] : positions) j[s] = w;
  return j;
}
}  // namespace

void ClientHandler::add_alert(const proto::Request& r) {
  const auto limit = parts_->opts.max_alerts_per_client;
  if (limit == 0) {
    problem({"forbidden", "error", "custom alerts are off on this server (GS_MAX_ALERTS is 0)"});
    return;
  }
  if (!tracked(r.symbol, "add an alert on")) return;
  // An alert shows the symbol's prices and signals: the token must allow joining its room.
  if (!allowed("subscribe", r.symbol)) return;
  std::optional<watch::Condition> cond;
  try {
    cond = watch::Condition::parse(r.condition, parts_->opts.alert_max_length);
  } catch (const watch::ConditionError& e) {
    problem({"bad_request", "error", e.what()},
            {{"symbol", r.symbol}, {"position", e.position()}, {"condition", r.condition}});
    return;
  }
  std::string id = r.id;
  if (id.empty()) {
    do {
      id = "alert-" + std::to_string(++next_alert_);
    } while (parts_->watches.has(this, id));
  }
  const bool replaces = parts_->watches.has(this, id);
  if (!replaces && parts_->watches.count(this) >= limit) {
    problem({"too_many_alerts", "error",
             "cannot add alert " + id + ": this client has " + std::to_string(limit) +
                 " alerts, the limit (GS_MAX_ALERTS); remove one first"},
            {{"symbol", r.symbol}, {"limit", limit}});
    return;
  }
  watch::AlertSpec spec{id, r.symbol, r.condition, r.severity, r.cooldown_s, now_ms()};
  if (persistent()) {
    parts_->history.store->keep(who().sub, kAlertKind, id, spec.to_json().dump());
  }
  reply(nlohmann::json{{"type", "add_alert"},
                       {"id", id},
                       {"symbol", r.symbol},
                       {"condition", r.condition},
                       {"status", replaces ? "replaced" : "added"},
                       {"persistent", persistent()},
                       {"timestamp", iso8601_ms(now_ms())}}
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  // After the confirmation: a condition true now fires at once.
  parts_->watches.add(this, self_, std::move(spec), std::move(*cond));
}

void ClientHandler::remove_alert(const proto::Request& r) {
  const bool removed = parts_->watches.remove(this, r.id);
  if (removed && persistent()) {
    parts_->history.store->keep(who().sub, kAlertKind, r.id, std::nullopt);
  }
  reply(nlohmann::json{{"type", "remove_alert"},
                       {"id", r.id},
                       {"status", removed ? "removed" : "not_found"},
                       {"timestamp", iso8601_ms(now_ms())}}
            .dump());
}

void ClientHandler::list_alerts() {
  auto data = nlohmann::json::array();
  for (const auto& a : parts_->watches.alerts(this)) {
    auto j = a.spec.to_json();
    j["fired"] = a.fired;
    j["last_fired"] = a.last_fired_ms ? nlohmann::json(iso8601_ms(a.last_fired_ms)) : nullptr;
    j["state"] = a.state;
    data.push_back(std::move(j));
  }
  reply(nlohmann::json{{"type", "list_alerts"},
                       {"data", std::move(data)},
                       {"limit", parts_->opts.max_alerts_per_client},
                       {"persistent", persistent()},
                       {"timestamp", iso8601_ms(now_ms())}}
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool ClientHandler::persistent() const {
  return !who().sub.empty() && parts_->history.store != nullptr;
}

void ClientHandler::restore(const char* kind,
                            const std::function<std::string(const std::string&)>& bring_back) {
  if (!persistent()) return;
  std::vector<std::pair<std::string, std::string>> kept;
  try {
    kept = parts_->history.store->kept(who().sub, kind);
  } catch (const Error& e) {
    problem({"unavailable", "error", std::string("your stored ") + kind + "s: " + e.what()});
    return;
  }
  for (const auto& [id, body] : kept) {
    // One that no longer fits this server (a symbol dropped, a limit lowered) stays stored,
    // and the client is told.
    std::string why;
    try {
      why = bring_back(body);
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (why.empty()) continue;
    problem({std::string(kind) + "_not_restored", "warning",
             "stored " + std::string(kind) + " " + id + " is not active: " + why},
            {{"id", id}});
  }
}

void ClientHandler::restore_alerts() {
  const auto& all = parts_->analyses.symbols();
  restore(kAlertKind, [&](const std::string& body) -> std::string {
    auto spec = watch::AlertSpec::from_json(nlohmann::json::parse(body));
    auto cond = watch::Condition::parse(spec.condition, parts_->opts.alert_max_length);
    if (std::find(all.begin(), all.end(), spec.symbol) == all.end()) {
      return spec.symbol + " is not tracked by this server";
    }
    if (parts_->watches.count(this) >= parts_->opts.max_alerts_per_client) {
      return "over the limit of " + std::to_string(parts_->opts.max_alerts_per_client) +
             " alerts (GS_MAX_ALERTS)";
    }
    parts_->watches.add(this, self_, std::move(spec), std::move(cond), true);
    return {};
  });
}

// --- portfolios ----------------------------------------------------------------------------

void ClientHandler::subscribe_portfolio(const proto::Request& r) {
  const auto limit = parts_->opts.max_portfolios_per_client;
  if (limit == 0) {
    problem({"forbidden", "error", "portfolios are off on this server (GS_MAX_PORTFOLIOS is 0)"});
    return;
  }
  if (r.positions.size() > parts_->opts.max_portfolio_size) {
    problem({"bad_request", "error",
             "a portfolio of " + std::to_string(r.positions.size()) +
                 " positions is not accepted; at most " +
                 std::to_string(parts_->opts.max_portfolio_size) + " (GS_MAX_PORTFOLIO_SIZE)"},
            {{"limit", parts_->opts.max_portfolio_size}});
    return;
  }
  for (const auto& [symbol, weight] : r.positions) {
    if (!tracked(symbol, "watch a portfolio with") || !allowed("subscribe", symbol)) return;
  }
  std::string id = r.id;
  if (id.empty()) {
    do {
      id = "portfolio-" + std::to_string(++next_portfolio_);
    } while (parts_->watches.has_portfolio(this, id));
  }
  const bool replaces = parts_->watches.has_portfolio(this, id);
  if (!replaces && parts_->watches.portfolio_count(this) >= limit) {
    problem({"too_many_portfolios", "error",
             "cannot watch portfolio " + id + ": this client watches " + std::to_string(limit) +
                 " portfolios, the limit (GS_MAX_PORTFOLIOS); unsubscribe one first"},
            {{"limit", limit}});
    return;
  }
  std::size_t rooms = rooms_.size();
  for (const auto& [symbol, weight] : r.positions) rooms += rooms_.contains(symbol) ? 0 : 1;
  if (rooms > parts_->opts.max_subscriptions_per_client) {
    parts_->counters.security.subscriptions_refused.fetch_add(1);
    problem({"too_many_subscriptions", "error",
             "cannot watch portfolio " + id + ": its positions would put this client in " +
                 std::to_string(rooms) + " rooms, past the limit of " +
                 std::to_string(parts_->opts.max_subscriptions_per_client)},
            {{"limit", parts_->opts.max_subscriptions_per_client}});
    return;
  }
  reply(nlohmann::json{{"type", "subscribe_portfolio"},
                       {"id", id},
                       {"status", replaces ? "replaced" : "subscribed"},
                       {"positions", positions_json(r.positions)},
                       {"persistent", persistent()},
                       {"timestamp", iso8601_ms(now_ms())}}
            .dump());
  auto before = portfolio_members(id);
  watch_portfolio(id, r.positions, {}, false);
  release_rooms(std::move(before));  // a replaced portfolio's rooms no longer needed
}

bool ClientHandler::watch_portfolio(const std::string& id, std::map<std::string, double> positions,
                                    std::map<std::string, double> reference, bool restored) {
  // The members' rooms, as a subscribe would join them (a confirmation each).
  for (const auto& [symbol, weight] : positions) {
    if (rooms_.contains(symbol)) continue;
    if (!subscribe(symbol)) return false;
    portfolio_rooms_.insert(symbol);
  }
  watch::PortfolioSpec spec{id, std::move(positions), std::move(reference), now_ms()};
  const auto kept = parts_->watches.add_portfolio(this, self_, std::move(spec));
  if (persistent() && !restored) {
    parts_->history.store->keep(who().sub, kPortfolioKind, id, kept.to_json().dump());
  }
  return true;
}

std::set<std::string> ClientHandler::portfolio_members(const std::string& id) const {
  std::set<std::string> members;
  for (const auto& p : parts_->watches.portfolios(this)) {
    if (!id.empty() && p.id != id) continue;
    for (const auto& [symbol, weight] : p.positions) members.insert(symbol);
  }
  return members;
}

void ClientHandler::release_rooms(std::set<std::string> candidates) {
  for (const auto& symbol : portfolio_members({})) candidates.erase(symbol);
  for (const auto& symbol : candidates) {
    if (portfolio_rooms_.erase(symbol) > 0) unsubscribe(symbol);
  }
}

void ClientHandler::unsubscribe_portfolio(const proto::Request& r) {
  auto members = portfolio_members(r.id);
  const bool removed = parts_->watches.remove_portfolio(this, r.id);
  if (removed && persistent()) {
    parts_->history.store->keep(who().sub, kPortfolioKind, r.id, std::nullopt);
  }
  reply(nlohmann::json{{"type", "unsubscribe_portfolio"},
                       {"id", r.id},
                       {"status", removed ? "unsubscribed" : "not_found"},
                       {"timestamp", iso8601_ms(now_ms())}}
            .dump());
  release_rooms(std::move(members));  // the rooms joined only for it
}

void ClientHandler::list_portfolios() {
  auto data = nlohmann::json::array();
  for (const auto& p : parts_->watches.portfolios(this)) data.push_back(p.to_json());
  reply(nlohmann::json{{"type", "list_portfolios"},
                       {"data", std::move(data)},
                       {"limit", parts_->opts.max_portfolios_per_client},
                       {"persistent", persistent()},
                       {"timestamp", iso8601_ms(now_ms())}}
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void ClientHandler::restore_portfolios() {
  const auto& all = parts_->analyses.symbols();
  restore(kPortfolioKind, [&](const std::string& body) -> std::string {
    auto spec = watch::PortfolioSpec::from_json(nlohmann::json::parse(body));
    std::size_t rooms = rooms_.size();
    for (const auto& [symbol, weight] : spec.positions) {
      if (std::find(all.begin(), all.end(), symbol) == all.end()) {
        return symbol + " is not tracked by this server";
      }
      rooms += rooms_.contains(symbol) ? 0 : 1;
    }
    if (parts_->watches.portfolio_count(this) >= parts_->opts.max_portfolios_per_client) {
      return "over the limit of " + std::to_string(parts_->opts.max_portfolios_per_client) +
             " portfolios (GS_MAX_PORTFOLIOS)";
    }
    if (spec.positions.size() > parts_->opts.max_portfolio_size ||
        rooms > parts_->opts.max_subscriptions_per_client) {
      return "larger than this server's limits (GS_MAX_PORTFOLIO_SIZE, WS_MAX_SUBSCRIPTIONS)";
    }
    if (!watch_portfolio(spec.id, std::move(spec.positions), std::move(spec.reference), true)) {
      return "its symbols may not be joined with this token";
    }
    return {};
  });
}

void ClientHandler::reply(std::string json) {
  if (auto me = self_.lock()) me->send(make_message(MessageKind::Reply, std::move(json)));
}

void ClientHandler::problem(const proto::Problem& p, const nlohmann::json& extra) {
  if (p.severity == "error") parts_->counters.bad_requests.fetch_add(1);
  reply(proto::alert(p, extra));
}

}  // namespace gs
