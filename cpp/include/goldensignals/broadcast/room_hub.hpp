// Rooms per symbol on this node. A room's member list is copy-on-write: publishing copies one
// pointer under the lock and sends after releasing it; joins and leaves rebuild the list.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "goldensignals/broadcast/message.hpp"

namespace gs {

class RoomHub {
 public:
  // Every connected client (heartbeats, system alerts, shutdown).
  void connect(const std::shared_ptr<Subscriber>& s);
  void disconnect(const Subscriber* s);

  // Joins the room and, under the room lock, queues `confirmation`, then `missed` (a
  // recovery), then (if `with_snapshot`) the latest signal_update snapshot of the symbol, so
  // no later room message can overtake them. False if `s` was already a member (the
  // confirmation is still queued).
  bool join(const std::string& symbol, const std::shared_ptr<Subscriber>& s,
            MessagePtr confirmation, const std::vector<MessagePtr>& missed = {},
            bool with_snapshot = true);
  bool leave(const std::string& symbol, const Subscriber* s);

  // Hands one shared message to every member of the room; returns how many accepted it.
  // A SignalUpdate also becomes the room's snapshot (a copy with "snapshot":true).
  std::size_t publish(const std::string& symbol, std::shared_ptr<const std::string> frame,
                      MessageKind kind);
  // Hands one shared message to every connected client.
  std::size_t publish_all(std::shared_ptr<const std::string> frame, MessageKind kind);

  [[nodiscard]] std::map<std::string, std::size_t> room_sizes() const;
  [[nodiscard]] std::size_t clients() const;
  [[nodiscard]] std::vector<std::shared_ptr<Subscriber>> all_clients() const;
  // The latest signal_update of `symbol` seen since start, as a snapshot (null if none).
  [[nodiscard]] MessagePtr snapshot(const std::string& symbol) const;
  // Sets the snapshot from a stored signal_update frame, unless a newer one is there.
  void prime_snapshot(const std::string& symbol, const std::string& frame);

 private:
  // The raw pointer is the identity: comparing never locks a weak_ptr under mu_ (a lock that
  // released the last reference would run a destructor under the lock).
  struct Member {
    const Subscriber* key;
    std::weak_ptr<Subscriber> ref;
  };
  using Members = std::vector<Member>;
  using MembersPtr = std::shared_ptr<const Members>;
  static MembersPtr with(const MembersPtr& list, const std::shared_ptr<Subscriber>& s);
  static MembersPtr without(const MembersPtr& list, const Subscriber* s);
  static std::size_t deliver(const Members& list, const MessagePtr& m);
  static MessagePtr as_snapshot(const std::string& symbol, const std::string& frame);

  mutable std::mutex mu_;  // guards the maps below; never held across I/O
  std::unordered_map<std::string, MembersPtr> rooms_;
  std::unordered_map<std::string, MessagePtr> snapshots_;  // one per symbol seen
  MembersPtr all_ = std::make_shared<const Members>();
};

}  // namespace gs
