#include "goldensignals/net/client_handler.hpp"

#include <algorithm>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/net/context.hpp"
#include "goldensignals/runtime/runtime.hpp"

namespace gs {

ClientHandler::ClientHandler(std::shared_ptr<ServerContext> ctx, std::weak_ptr<Subscriber> self,
                             std::string client_id)
    : ctx_(std::move(ctx)),
      self_(std::move(self)),
      client_id_(std::move(client_id)),
      analyze_bucket_(ctx_->opts.analyze_rate) {}

void ClientHandler::on_open(const std::optional<std::string>& symbol) {
  reply(proto::welcome(client_id_));
  if (symbol && subscribe(*symbol)) analyze(*symbol);
}

void ClientHandler::on_text(std::string_view text) { handle(proto::parse_text(text)); }

void ClientHandler::on_binary(std::string_view bytes) { handle(proto::parse_binary(bytes)); }

void ClientHandler::on_closed() {
  auto* me = self_.lock().get();
  for (const auto& s : rooms_) ctx_->hub.leave(s, me);
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
      subscribe(r.symbol);
      break;
    case proto::Command::Unsubscribe:
      unsubscribe(r.symbol);
      break;
    case proto::Command::Analyze:
      analyze(r.symbol);
      break;
    case proto::Command::GetStatus:
      reply(nlohmann::json{{"type", "status_update"}, {"data", ctx_->status_update()}}.dump());
      break;
    case proto::Command::Heartbeat:
      reply(proto::heartbeat_ack());
      break;
    case proto::Command::Ping:
      reply(proto::pong());
      break;
    case proto::Command::History:
    case proto::Command::Replay:
      break;  // refused by the parser until the signal store exists
  }
}

bool ClientHandler::subscribe(const std::string& symbol) {
  auto me = self_.lock();
  if (!me) return false;
  if (!rooms_.contains(symbol) && rooms_.size() >= ctx_->opts.max_subscriptions_per_client) {
    problem({"too_many_subscriptions", "error",
             "cannot subscribe to " + symbol + ": already in " + std::to_string(rooms_.size()) +
                 " rooms, the limit per client; unsubscribe from one first"},
            {{"symbol", symbol}, {"limit", ctx_->opts.max_subscriptions_per_client}});
    return false;
  }
  rooms_.insert(symbol);
  ctx_->hub.join(symbol, me,
                 make_message(MessageKind::Reply, proto::confirmation("subscribe", symbol)));
  return true;
}

void ClientHandler::unsubscribe(const std::string& symbol) {
  rooms_.erase(symbol);
  ctx_->hub.leave(symbol, self_.lock().get());
  reply(proto::confirmation("unsubscribe", symbol));  // idempotent: confirmed even if not a member
}

void ClientHandler::analyze(const std::string& symbol) {
  const auto tracked = ctx_->runtime->symbols();
  if (std::find(tracked.begin(), tracked.end(), symbol) == tracked.end()) {
    std::string list;
    for (const auto& t : tracked) list += (list.empty() ? "" : ", ") + t;
    problem({"invalid_symbol", "error",
             "cannot analyze " + symbol + ": not tracked by this server; tracked: " + list},
            {{"symbol", symbol}});
    return;
  }
  double retry_after = 0.0;
  if (!analyze_bucket_.take(retry_after)) {
    problem({"rate_limited", "warning",
             "too many analyze requests; at most " + fmt_num(ctx_->opts.analyze_rate.per_second) +
                 " per second (burst " + fmt_num(ctx_->opts.analyze_rate.burst) + ")"},
            {{"symbol", symbol}, {"retry_after", retry_after}});
    return;
  }
  if (!rooms_.contains(symbol) && !subscribe(symbol)) return;
  try {
    ctx_->runtime->analyze(symbol);  // starts or joins; the room receives the results
  } catch (const Error& e) {
    problem({"unavailable", "error", std::string("cannot analyze ") + symbol + ": " + e.what()},
            {{"symbol", symbol}});
    return;
  }
  reply(proto::info("analysis_started", "Analysis started for " + symbol, {{"symbol", symbol}}));
}

void ClientHandler::reply(std::string json) {
  if (auto me = self_.lock()) me->send(make_message(MessageKind::Reply, std::move(json)));
}

void ClientHandler::problem(const proto::Problem& p, const nlohmann::json& extra) {
  if (p.severity == "error") ctx_->counters.bad_requests.fetch_add(1);
  reply(proto::alert(p, extra));
}

}  // namespace gs
