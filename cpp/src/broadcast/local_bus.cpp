#include "goldensignals/broadcast/bus.hpp"
#include "goldensignals/broadcast/room_hub.hpp"

namespace gs {

void LocalBus::publish(const std::string& symbol, std::span<const MessagePtr> burst) {
  if (tap_) {
    for (const auto& m : burst) tap_(symbol, m->kind(), m->json());
  }
  hub_.publish(symbol, burst);
}

void LocalBus::publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) {
  hub_.publish_all(std::move(frame), kind);
}

}  // namespace gs
