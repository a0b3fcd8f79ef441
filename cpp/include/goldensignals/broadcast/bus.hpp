// Where room messages travel between being journaled (numbered, and stored when the journal
// keeps history) and reaching the sessions. LocalBus hands them straight to this node's
// RoomHub; a bus that spans nodes plugs in here without sessions or the orchestrator noticing.
#pragma once

#include <memory>
#include <string>

#include "goldensignals/broadcast/message.hpp"

namespace gs {

class RoomHub;

class Bus {
 public:
  virtual ~Bus() = default;
  // A room message (seq already stamped) for every subscriber of `symbol`, on every node.
  virtual void publish(const std::string& symbol, std::shared_ptr<const std::string> frame,
                       MessageKind kind) = 0;
  // A message for every connected client, on every node (system alerts, heartbeats).
  virtual void publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) = 0;
};

class LocalBus final : public Bus {
 public:
  explicit LocalBus(RoomHub& hub) : hub_(hub) {}
  void publish(const std::string& symbol, std::shared_ptr<const std::string> frame,
               MessageKind kind) override;
  void publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) override;

 private:
  RoomHub& hub_;
};

}  // namespace gs
