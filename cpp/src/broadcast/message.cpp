#include "goldensignals/broadcast/message.hpp"

#include <nlohmann/json.hpp>

namespace gs {

std::string_view to_string(MessageKind k) noexcept {
  switch (k) {
    case MessageKind::PriceUpdate:
      return "price_update";
    case MessageKind::AgentUpdate:
      return "agent_update";
    case MessageKind::SignalUpdate:
      return "signal_update";
    case MessageKind::DecisionUpdate:
      return "decision_update";
    case MessageKind::Alert:
      return "alert";
    case MessageKind::Heartbeat:
      return "heartbeat";
    case MessageKind::Reply:
      return "reply";
  }
  return "?";
}

MessageKind room_kind(std::string_view type) noexcept {
  for (auto k : {MessageKind::PriceUpdate, MessageKind::AgentUpdate, MessageKind::SignalUpdate,
                 MessageKind::DecisionUpdate}) {
    if (to_string(k) == type) return k;
  }
  return MessageKind::Reply;
}

std::string with_seq(std::uint64_t seq, std::string_view body) {
  const std::string n = std::to_string(seq);
  std::string framed;
  framed.reserve(body.size() + n.size() + 8);
  framed.append("{\"seq\":").append(n);
  if (body.size() > 2) framed.append(",");
  framed.append(body.substr(body.empty() ? 0 : 1));
  return framed;
}

std::string_view to_string(SendStatus s) noexcept {
  switch (s) {
    case SendStatus::Queued:
      return "queued";
    case SendStatus::Replaced:
      return "replaced";
    case SendStatus::Dropped:
      return "dropped";
    case SendStatus::Closed:
      return "closed";
  }
  return "?";
}

const std::string& Message::msgpack() const {
  std::call_once(msgpack_once_, [this] {
    // Our own JSON text: parsing cannot fail; if it ever did, an empty map beats a crash.
    auto j = nlohmann::json::parse(*json_, nullptr, false);
    if (j.is_discarded()) j = nlohmann::json::object();
    std::vector<std::uint8_t> bytes = nlohmann::json::to_msgpack(j);
    msgpack_.assign(bytes.begin(), bytes.end());
  });
  return msgpack_;
}

MessagePtr make_message(MessageKind kind, std::string json, std::string symbol) {
  return std::make_shared<const Message>(kind, std::move(symbol),
                                         std::make_shared<const std::string>(std::move(json)));
}

}  // namespace gs
