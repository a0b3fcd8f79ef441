#include "goldensignals/broadcast/room_hub.hpp"

#include <algorithm>

namespace gs {

RoomHub::MembersPtr RoomHub::with(const MembersPtr& list, const std::shared_ptr<Subscriber>& s) {
  auto next = std::make_shared<Members>();
  next->reserve((list ? list->size() : 0) + 1);
  if (list) {
    for (const auto& m : *list) {
      if (!m.ref.expired()) next->push_back(m);  // prune the dead while we copy anyway
    }
  }
  next->push_back(Member{s.get(), s});
  return next;
}

RoomHub::MembersPtr RoomHub::without(const MembersPtr& list, const Subscriber* s) {
  auto next = std::make_shared<Members>();
  if (!list) return next;
  next->reserve(list->size());
  for (const auto& m : *list) {
    if (m.key != s && !m.ref.expired()) next->push_back(m);
  }
  return next;
}

std::size_t RoomHub::deliver(const Members& list, const MessagePtr& m) {
  std::size_t n = 0;
  for (const auto& member : list) {
    if (auto s = member.ref.lock()) {
      const auto st = s->send(m);
      if (st == SendStatus::Queued || st == SendStatus::Replaced) ++n;
    }
  }
  return n;
}

void RoomHub::connect(const std::shared_ptr<Subscriber>& s) {
  std::lock_guard lk(mu_);
  all_ = with(all_, s);
}

void RoomHub::disconnect(const Subscriber* s) {
  std::lock_guard lk(mu_);
  all_ = without(all_, s);
}

MessagePtr RoomHub::as_snapshot(const std::string& symbol, const std::string& frame) {
  if (frame.size() < 2 || frame.front() != '{') return nullptr;
  return make_message(MessageKind::SignalUpdate, "{\"snapshot\":true," + frame.substr(1), symbol);
}

bool RoomHub::join(const std::string& symbol, const std::shared_ptr<Subscriber>& s,
                   MessagePtr confirmation, const std::vector<MessagePtr>& missed,
                   bool with_snapshot) {
  std::lock_guard lk(mu_);
  auto& room = rooms_[symbol];
  const bool member = room && std::any_of(room->begin(), room->end(), [&](const Member& m) {
                        return m.key == s.get() && !m.ref.expired();
                      });
  if (!member) room = with(room, s);
  // Queued under the lock (a queue push, no I/O): a concurrent publish cannot overtake them.
  s->send(std::move(confirmation));
  for (const auto& m : missed) s->send(m);
  if (!with_snapshot) return !member;
  if (auto it = snapshots_.find(symbol); it != snapshots_.end()) s->send(it->second);
  return !member;
}

bool RoomHub::leave(const std::string& symbol, const Subscriber* s) {
  std::lock_guard lk(mu_);
  auto it = rooms_.find(symbol);
  if (it == rooms_.end()) return false;
  const auto before = it->second->size();
  it->second = without(it->second, s);
  const bool left = it->second->size() != before;
  if (it->second->empty()) rooms_.erase(it);
  return left;
}

std::size_t RoomHub::publish(const std::string& symbol, std::shared_ptr<const std::string> frame,
                             MessageKind kind) {
  MessagePtr snap;
  if (kind == MessageKind::SignalUpdate) snap = as_snapshot(symbol, *frame);
  auto m = std::make_shared<const Message>(kind, symbol, std::move(frame));
  MembersPtr list;
  {
    std::lock_guard lk(mu_);
    if (snap) snapshots_[symbol] = std::move(snap);
    if (auto it = rooms_.find(symbol); it != rooms_.end()) list = it->second;
  }
  return list ? deliver(*list, m) : 0;
}

std::size_t RoomHub::publish_all(std::shared_ptr<const std::string> frame, MessageKind kind) {
  auto m = std::make_shared<const Message>(kind, std::string(), std::move(frame));
  MembersPtr list;
  {
    std::lock_guard lk(mu_);
    list = all_;
  }
  return deliver(*list, m);
}

std::map<std::string, std::size_t> RoomHub::room_sizes() const {
  std::map<std::string, std::size_t> out;
  std::lock_guard lk(mu_);
  for (const auto& [sym, list] : rooms_) {
    out[sym] = static_cast<std::size_t>(std::count_if(
        list->begin(), list->end(), [](const Member& m) { return !m.ref.expired(); }));
  }
  return out;
}

std::size_t RoomHub::clients() const {
  std::lock_guard lk(mu_);
  return static_cast<std::size_t>(
      std::count_if(all_->begin(), all_->end(), [](const Member& m) { return !m.ref.expired(); }));
}

std::vector<std::shared_ptr<Subscriber>> RoomHub::all_clients() const {
  MembersPtr list;
  {
    std::lock_guard lk(mu_);
    list = all_;
  }
  std::vector<std::shared_ptr<Subscriber>> out;
  for (const auto& m : *list) {
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
