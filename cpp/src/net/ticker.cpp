#include "goldensignals/net/ticker.hpp"

#include <boost/asio/post.hpp>

namespace gs {

std::size_t Ticker::add(std::weak_ptr<Due> who, Deadline* deadline) {
  std::lock_guard lk(mu_);
  if (!free_.empty()) {
    const auto slot = free_.back();
    free_.pop_back();
    entries_[slot] = Entry{std::move(who), deadline};
    return slot;
  }
  entries_.push_back(Entry{std::move(who), deadline});
  return entries_.size() - 1;
}

void Ticker::remove(std::size_t slot) {
  std::weak_ptr<Due> gone;  // released after the lock
  std::lock_guard lk(mu_);
  if (slot >= entries_.size() || entries_[slot].deadline == nullptr) return;
  gone = std::move(entries_[slot].who);
  entries_[slot] = Entry{};
  free_.push_back(slot);
}

void Ticker::start(const asio::any_io_executor& ex) {
  timer_ = std::make_unique<asio::steady_timer>(ex);
  arm();
}

void Ticker::stop() {
  if (!timer_) return;
  asio::post(timer_->get_executor(), [t = timer_.get()] { t->cancel(); });
}

void Ticker::release() {
  timer_.reset();
  ready_.clear();
}

void Ticker::arm() {
  timer_->expires_after(resolution_);
  timer_->async_wait([this](error_code ec) { on_tick(ec); });
}

void Ticker::on_tick(error_code ec) {
  if (ec) return;  // stopped
  const std::int64_t now = at(std::chrono::steady_clock::now());
  {
    std::lock_guard lk(mu_);
    for (auto& e : entries_) {
      if (e.deadline == nullptr) continue;
      std::int64_t d = e.deadline->load(std::memory_order_acquire);
      // Claimed once: a deadline the session moved meanwhile is looked at next time.
      if (d > now || !e.deadline->compare_exchange_strong(d, kNever)) continue;
      if (auto who = e.who.lock()) ready_.push_back(std::move(who));
    }
  }
  // Outside the lock: the last reference to a session may go here, and its end removes it.
  for (auto& who : ready_) who->due();
  ready_.clear();
  arm();
}

}  // namespace gs
