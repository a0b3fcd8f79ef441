#include "goldensignals/broadcast/bus.hpp"
#include "goldensignals/broadcast/room_hub.hpp"

namespace gs {

void LocalBus::publish(const std::string& symbol, std::shared_ptr<const std::string> frame,
                       MessageKind kind) {
  if (tap_) tap_(symbol, kind, *frame);
  hub_.publish(symbol, std::move(frame), kind);
}

void LocalBus::publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) {
  hub_.publish_all(std::move(frame), kind);
}

}  // namespace gs
