// The protocol logic of one WebSocket client: requests in, replies and room changes out.
// No I/O of its own; the session calls it on the connection's executor only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/net/auth.hpp"
#include "goldensignals/net/protocol.hpp"
#include "goldensignals/net/rate_limiter.hpp"

namespace gs {

struct ClientParts;

class ClientHandler {
 public:
  // `who`: the verified token's claims (empty without a token). Its sub is the client id;
  // otherwise `fallback_id`.
  // `executor`: the connection's, on which paced replays wait out their gaps (timers).
  ClientHandler(std::shared_ptr<const ClientParts> parts, std::weak_ptr<Subscriber> self,
                boost::asio::any_io_executor executor, std::string fallback_id, Principal who = {});

  // After the handshake: the welcome; for /ws/symbols/{symbol}, subscribe and analyze too.
  void on_open(const std::optional<std::string>& symbol);
  // Each message counts against WS_MAX_MESSAGES_PER_SECOND; past it the client is closed
  // with 1008 "message flood" and the message is not handled.
  void on_text(std::string_view text);
  // A binary frame: a ClientMessage on a protobuf connection, else MessagePack.
  void on_binary(std::string_view bytes, WireFormat format);
  // The connection ended: leave every room.
  void on_closed();

  [[nodiscard]] const std::string& client_id() const noexcept { return client_id_; }
  [[nodiscard]] const std::set<std::string>& subscriptions() const noexcept { return rooms_; }

 private:
  bool admit_message();
  bool allowed(std::string_view action, const std::string& symbol);
  void handle(const proto::Parsed& p);
  bool subscribe(const std::string& symbol, std::optional<std::uint64_t> since = std::nullopt,
                 const std::optional<std::string>& epoch = std::nullopt);
  void history(const proto::Request& r);
  void replay(const proto::Request& r);
  void unsubscribe(const std::string& symbol);
  void analyze(const std::string& symbol);
  bool tracked(const std::string& symbol, std::string_view action);
  void add_alert(const proto::Request& r);
  void remove_alert(const proto::Request& r);
  void list_alerts();
  // A token subject's stored `kind`s, at the open: `bring_back` activates one from its
  // stored body, or says why it cannot ("" when it did).
  void restore(const char* kind, const std::function<std::string(const std::string&)>& bring_back);
  void restore_alerts();
  void subscribe_portfolio(const proto::Request& r);
  // Adds (or restores) a portfolio: joins its members' rooms and starts its updates.
  bool watch_portfolio(const std::string& id, std::map<std::string, double> positions,
                       std::map<std::string, double> reference, bool restored);
  void unsubscribe_portfolio(const proto::Request& r);
  void list_portfolios();
  void restore_portfolios();
  // The symbols of this client's portfolio `id` (empty: of all of them).
  [[nodiscard]] std::set<std::string> portfolio_members(const std::string& id) const;
  // Leaves those of `candidates` joined only for portfolios and held by none now.
  void release_rooms(std::set<std::string> candidates);
  [[nodiscard]] bool persistent() const;
  void reply(std::string json);
  void problem(const proto::Problem& p, const nlohmann::json& extra = nlohmann::json::object());

  std::shared_ptr<const ClientParts> parts_;
  std::weak_ptr<Subscriber> self_;
  boost::asio::any_io_executor executor_;
  // The token's claims; null without any (most clients), which may do anything (Principal{}).
  [[nodiscard]] const Principal& who() const;
  std::unique_ptr<const Principal> who_;
  std::string client_id_;
  std::set<std::string> rooms_;  // at most max_subscriptions_per_client
  TokenBucket analyze_bucket_;
  TokenBucket message_bucket_;
  bool flooded_ = false;
  std::uint64_t next_alert_ = 0;  // ids made for alerts added without one
  std::uint64_t next_portfolio_ = 0;
  // Rooms joined for portfolios only (not subscribed to on their own): left again when no
  // portfolio of this client holds them.
  std::set<std::string> portfolio_rooms_;
};

}  // namespace gs
