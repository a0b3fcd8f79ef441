#include "goldensignals/core/message_kind.hpp"

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
    case MessageKind::SignalOutcome:
      return "signal_outcome";
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
                 MessageKind::DecisionUpdate, MessageKind::SignalOutcome}) {
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

}  // namespace gs
