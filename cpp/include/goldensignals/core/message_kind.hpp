// The kinds of messages the runtime's events become, and how a room message carries its
// per-symbol seq. The engine's journal numbers them; the server's broadcast layer sends them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gs {

enum class MessageKind : std::uint8_t {
  PriceUpdate,     // snapshot-like: a newer one for the same symbol may replace an unsent one
  AgentUpdate,     // ordered room stream, never dropped silently
  SignalUpdate,    // ordered room stream
  DecisionUpdate,  // ordered room stream
  SignalOutcome,   // ordered room stream: a signal's result once its horizon closed
  Alert,           // to everyone (system) or one client (replies)
  Heartbeat,       // periodic, to everyone
  Reply,           // an answer to one client's request
};
std::string_view to_string(MessageKind k) noexcept;
// The kinds that go to a symbol's room and carry seq.
constexpr bool is_room_kind(MessageKind k) noexcept {
  return k == MessageKind::PriceUpdate || k == MessageKind::AgentUpdate ||
         k == MessageKind::SignalUpdate || k == MessageKind::DecisionUpdate ||
         k == MessageKind::SignalOutcome;
}
// The room kind named by a message type ("signal_update"); Reply for any other name.
MessageKind room_kind(std::string_view type) noexcept;
// `body` (a JSON object text) with "seq":N as its first key.
std::string with_seq(std::uint64_t seq, std::string_view body);

}  // namespace gs
