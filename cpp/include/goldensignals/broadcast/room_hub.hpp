// Rooms per symbol on this node. Publishing takes a room's member list under the lock and
// sends after releasing it. Joins and leaves change the list in place, in O(1), unless a
// publisher is walking it at that moment: then they change a copy (copy on write, only when
// it is needed). So 10,000 joins while nothing is published cost 10,000 steps, not the
// 50 million member copies of copying the list on every join. A member whose subscriber is
// gone without leaving is skipped, and removed after the publish that found it.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <span>
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
  // Hands messages of `symbol`, in order, to every member of its room, each member taking
  // the whole burst in one step (one walk of the room, one lock per member). The last
  // SignalUpdate becomes the snapshot. Returns the deliveries accepted (members x messages).
  std::size_t publish(const std::string& symbol, std::span<const MessagePtr> burst);
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
  // A member list, with how many publishers are walking it outside the lock. A walker is
  // counted under mu_ and uncounted (release) when done; a change under mu_ that reads 0
  // (acquire) may write in place, since no one else can start walking it.
  struct Members {
    std::vector<Member> list;
    mutable std::atomic<int> walkers{0};
  };
  // A room (also the set of all clients): the list, and where each member is in it.
  struct Room {
    std::shared_ptr<Members> members = std::make_shared<Members>();
    std::unordered_map<const Subscriber*, std::size_t> at;
  };
  // A publisher's hold on a list: taken under mu_, walked and dropped after releasing it.
  class Walk {
   public:
    explicit Walk(const std::shared_ptr<Members>& m);
    Walk(const Walk&) = delete;
    Walk& operator=(const Walk&) = delete;
    ~Walk();
    [[nodiscard]] const std::vector<Member>& list() const { return m_->list; }

   private:
    std::shared_ptr<const Members> m_;
  };

  struct Delivered {
    std::size_t accepted = 0;  // deliveries queued (or replacing an unsent price)
    std::size_t dead = 0;      // members gone without leaving
  };

  // mu_ held for all five.
  static std::vector<Member>& writable(Room& r);  // the list, copied first if walked
  static bool add(Room& r, const std::shared_ptr<Subscriber>& s);  // false: already in
  static bool remove(Room& r, const Subscriber* s);                // false: not in
  static void prune(Room& r);                                      // removes the dead
  static std::size_t live(const Room& r);
  // Outside the lock.
  static Delivered deliver(const Walk& walk, std::span<const MessagePtr> burst);
  static MessagePtr as_snapshot(const std::string& symbol, const std::string& frame);

  mutable std::mutex mu_;  // guards the maps below; never held across I/O
  std::unordered_map<std::string, Room> rooms_;
  std::unordered_map<std::string, MessagePtr> snapshots_;  // one per symbol seen
  Room all_;
};

}  // namespace gs
