// The wire protocol's client requests and the server's replies (docs/protocol.md), without I/O.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace gs::proto {

enum class Command : std::uint8_t {
  Subscribe,
  Unsubscribe,
  Analyze,
  GetStatus,
  Heartbeat,
  Ping,
  History,
  Replay,
  AddAlert,
  RemoveAlert,
  ListAlerts,
  SubscribePortfolio,
  UnsubscribePortfolio,
  ListPortfolios
};

struct Request {
  Command command = Command::Ping;
  std::string symbol;  // normalized (upper-case, valid) for the commands that take one
  std::optional<std::uint64_t> since;       // subscribe: recover the room messages after this seq
  std::optional<std::string> epoch;         // subscribe with since: the history `since` belongs to
  std::size_t limit = 50;                   // history: signals, newest first, at most this many
  std::uint64_t before = 0;                 // history: only seq below this (0: no bound)
  std::int64_t from_ms = 0, to_ms = 0;      // replay: the window, inclusive
  double speed = 0;                         // replay: multiple of real time (0: at once)
  std::string id;                           // add_alert (optional: one is made), remove_alert
  std::string condition;                    // add_alert: as written (parsed by the handler)
  std::string severity = "warning";         // add_alert: info | warning | error | critical
  double cooldown_s = 0;                    // add_alert: silent this long after firing
  std::map<std::string, double> positions;  // subscribe_portfolio: normalized symbol -> weight
};

// A bad request, answered with an alert; the connection stays open.
struct Problem {
  std::string code;      // invalid_json, bad_request, unknown_type, invalid_symbol, ...
  std::string severity;  // error | warning (also the alert_type)
  std::string message;
};

using Parsed = std::variant<Request, Problem>;

// A symbol as a client wrote it, upper-cased; nullopt when it is not a valid symbol.
std::optional<std::string> symbol_from(std::string_view raw);
// What an invalid symbol is answered with ('given' quoted, at most 32 characters).
std::string invalid_symbol_message(std::string_view given);

Parsed parse_text(std::string_view text);  // a JSON text frame
// parse_text's quick way, exposed for its tests: a flat object (members whose values are ASCII
// strings, integers, booleans or null) read into the DOM nlohmann::json::parse would make, at
// two fifths of the cost; nullopt for any other text (nested values, fractions, non-ASCII
// bytes, bad JSON), which nlohmann::json::parse reads.
std::optional<nlohmann::json> read_flat_object(std::string_view text);
Parsed parse_binary(std::string_view bytes);    // a MessagePack binary frame
Parsed parse_protobuf(std::string_view bytes);  // a goldensignals.v1.ClientMessage frame
Parsed parse_object(const nlohmann::json& j);

// Replies, as JSON texts.
std::string welcome(const std::string& client_id);
// (un)subscribe; `recovered` for a subscribe with since; `epoch`: the history the room's seqs
// belong to, when the journal has one (many nodes).
std::string confirmation(std::string_view type, const std::string& symbol,
                         std::optional<bool> recovered = std::nullopt,
                         const std::string& epoch = {});
std::string heartbeat();  // periodic
std::string heartbeat_ack();
std::string pong();
std::string alert(const Problem& p, const nlohmann::json& extra = nlohmann::json::object());
std::string info(std::string_view code, const std::string& message,
                 const nlohmann::json& extra = nlohmann::json::object());

}  // namespace gs::proto
