// Where room messages travel between being journaled (numbered, and stored when the journal
// keeps history) and reaching the sessions. LocalBus hands them straight to this node's
// RoomHub; a bus that spans nodes plugs in here without sessions or the orchestrator noticing.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "goldensignals/broadcast/message.hpp"

namespace gs {

class RoomHub;

class Bus {
 public:
  virtual ~Bus() = default;
  // Room messages of `symbol` (seq already stamped), in order, for every subscriber of it on
  // every node. A burst reaches each subscriber in one step.
  virtual void publish(const std::string& symbol, std::span<const MessagePtr> burst) = 0;
  // A message for every connected client, on every node (system alerts, heartbeats).
  virtual void publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) = 0;
};

class LocalBus final : public Bus {
 public:
  // Sees every room message as it goes to the rooms (custom alerts follow prices and signals).
  using Tap =
      std::function<void(const std::string& symbol, MessageKind kind, const std::string& frame)>;
  explicit LocalBus(RoomHub& hub, Tap tap = {}) : hub_(hub), tap_(std::move(tap)) {}
  void publish(const std::string& symbol, std::span<const MessagePtr> burst) override;
  void publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) override;

 private:
  RoomHub& hub_;
  Tap tap_;
};

}  // namespace gs
