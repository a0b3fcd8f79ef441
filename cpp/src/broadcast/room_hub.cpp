#include "goldensignals/broadcast/room_hub.hpp"

#include <algorithm>
#include <optional>

namespace gs {

RoomHub::Walk::Walk(const std::shared_ptr<Members>& m) : m_(m) {
  m_->walkers.fetch_add(1, std::memory_order_relaxed);  // under mu_, which orders it
}

RoomHub::Walk::~Walk() { m_->walkers.fetch_sub(1, std::memory_order_release); }

std::vector<RoomHub::Member>& RoomHub::writable(Room& r) {
  if (r.members->walkers.load(std::memory_order_acquire) != 0) {
    // A publisher is walking it: leave that one to it and change a copy (same order, so
    // the positions in `at` still hold).
    auto copy = std::make_shared<Members>();
    copy->list = r.members->list;
    r.members = std::move(copy);
  }
  return r.members->list;
}

bool RoomHub::add(Room& r, const std::shared_ptr<Subscriber>& s) {
  if (const auto it = r.at.find(s.get()); it != r.at.end()) {
    if (!r.members->list[it->second].ref.expired()) return false;  // a member already
    // The address of a subscriber gone without leaving, now another one's: take its place.
    writable(r)[it->second] = Member{s.get(), s};
    return true;
  }
  auto& list = writable(r);
  list.push_back(Member{s.get(), s});
  try {
    r.at.emplace(s.get(), list.size() - 1);
  } catch (...) {
    list.pop_back();  // never an index past the end
    throw;
  }
  return true;
}

bool RoomHub::remove(Room& r, const Subscriber* s) {
  const auto it = r.at.find(s);
  if (it == r.at.end()) return false;
  auto& list = writable(r);
  const std::size_t i = it->second;
  r.at.erase(it);
  if (i + 1 != list.size()) {  // the last one fills the gap
    list[i] = std::move(list.back());
    r.at[list[i].key] = i;
  }
  list.pop_back();
  return true;
}

void RoomHub::prune(Room& r) {
  std::vector<const Subscriber*> dead;
  for (const auto& m : r.members->list) {
    if (m.ref.expired()) dead.push_back(m.key);
  }
  for (const auto* key : dead) remove(r, key);
}

std::size_t RoomHub::live(const Room& r) {
  const auto& list = r.members->list;
  return static_cast<std::size_t>(
      std::count_if(list.begin(), list.end(), [](const Member& m) { return !m.ref.expired(); }));
}

RoomHub::Delivered RoomHub::deliver(const Walk& walk, std::span<const MessagePtr> burst) {
  Delivered d;
  for (const auto& member : walk.list()) {
    if (auto s = member.ref.lock()) {
      d.accepted += s->send_burst(burst);
    } else {
      ++d.dead;
    }
  }
  return d;
}

void RoomHub::connect(const std::shared_ptr<Subscriber>& s) {
  std::lock_guard lk(mu_);
  add(all_, s);
}

void RoomHub::disconnect(const Subscriber* s) {
  std::lock_guard lk(mu_);
  remove(all_, s);
}

MessagePtr RoomHub::as_snapshot(const std::string& symbol, const std::string& frame) {
  if (frame.size() < 2 || frame.front() != '{') return nullptr;
  return make_message(MessageKind::SignalUpdate, "{\"snapshot\":true," + frame.substr(1), symbol);
}

bool RoomHub::join(const std::string& symbol, const std::shared_ptr<Subscriber>& s,
                   MessagePtr confirmation, const std::vector<MessagePtr>& missed,
                   bool with_snapshot) {
  std::lock_guard lk(mu_);
  const bool joined = add(rooms_[symbol], s);
  // Queued under the lock (a queue push, no I/O): a concurrent publish cannot overtake them.
  s->send(std::move(confirmation));
  for (const auto& m : missed) s->send(m);
  if (!with_snapshot) return joined;
  if (auto it = snapshots_.find(symbol); it != snapshots_.end()) s->send(it->second);
  return joined;
}

bool RoomHub::leave(const std::string& symbol, const Subscriber* s) {
  std::lock_guard lk(mu_);
  auto it = rooms_.find(symbol);
  if (it == rooms_.end()) return false;
  const bool left = remove(it->second, s);
  if (it->second.at.empty()) rooms_.erase(it);
  return left;
}

std::size_t RoomHub::publish(const std::string& symbol, std::shared_ptr<const std::string> frame,
                             MessageKind kind) {
  const MessagePtr m = std::make_shared<const Message>(kind, symbol, std::move(frame));
  return publish(symbol, std::span<const MessagePtr>(&m, 1));
}

std::size_t RoomHub::publish(const std::string& symbol, std::span<const MessagePtr> burst) {
  MessagePtr snap;  // from the burst's last signal_update
  for (auto it = burst.rbegin(); it != burst.rend() && !snap; ++it) {
    if ((*it)->kind() == MessageKind::SignalUpdate) snap = as_snapshot(symbol, (*it)->json());
  }
  std::optional<Walk> walk;
  {
    std::lock_guard lk(mu_);
    if (snap) snapshots_[symbol] = std::move(snap);
    if (auto it = rooms_.find(symbol); it != rooms_.end()) walk.emplace(it->second.members);
  }
  if (!walk) return 0;
  const auto d = deliver(*walk, burst);
  walk.reset();
  if (d.dead > 0) {  // gone without leaving (a join that raced the close): not walked again
    std::lock_guard lk(mu_);
    if (auto it = rooms_.find(symbol); it != rooms_.end()) {
      prune(it->second);
      if (it->second.at.empty()) rooms_.erase(it);
    }
  }
  return d.accepted;
}

std::size_t RoomHub::publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) {
  const MessagePtr m = std::make_shared<const Message>(kind, std::string(), std::move(frame));
  std::optional<Walk> walk;
  {
    std::lock_guard lk(mu_);
    walk.emplace(all_.members);
  }
  const auto d = deliver(*walk, std::span<const MessagePtr>(&m, 1));
  walk.reset();
  if (d.dead > 0) {
    std::lock_guard lk(mu_);
    prune(all_);
  }
  return d.accepted;
}

std::map<std::string, std::size_t> RoomHub::room_sizes() const {
  std::map<std::string, std::size_t> out;
  std::lock_guard lk(mu_);
  for (const auto& [sym, room] : rooms_) out[sym] = live(room);
  return out;
}

std::size_t RoomHub::clients() const {
  std::lock_guard lk(mu_);
  return live(all_);
}

std::vector<std::shared_ptr<Subscriber>> RoomHub::all_clients() const {
  std::optional<Walk> walk;
  {
    std::lock_guard lk(mu_);
    walk.emplace(all_.members);
  }
  std::vector<std::shared_ptr<Subscriber>> out;
  for (const auto& m : walk->list()) {
    if (auto s = m.ref.lock()) out.push_back(std::move(s));
  }
  return out;
}

void RoomHub::prime_snapshot(const std::string& symbol, const std::string& frame) {
  auto snap = as_snapshot(symbol, frame);
  if (!snap) return;
  std::lock_guard lk(mu_);
  snapshots_.emplace(symbol, std::move(snap));  // a live one, if any, is newer
}

MessagePtr RoomHub::snapshot(const std::string& symbol) const {
  std::lock_guard lk(mu_);
  auto it = snapshots_.find(symbol);
  return it == snapshots_.end() ? nullptr : it->second;
}

}  // namespace gs
