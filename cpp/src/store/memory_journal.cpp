#include "goldensignals/store/journal.hpp"

namespace gs {

bool MemoryJournal::append(const std::string& symbol,
                           std::vector<std::pair<MessageKind, std::string>> items) {
  std::vector<Step> steps;
  steps.reserve(items.size());
  std::lock_guard lk(mu_);
  auto& seq = seq_[symbol];
  for (auto& [kind, body] : items) {
    steps.emplace_back(Publication{symbol, std::make_shared<const std::string>(with_seq(++seq, body)),
                                   kind});
  }
  deliver_(std::move(steps), false);
  return true;
}

void MemoryJournal::recover(const std::string&, std::uint64_t, std::size_t, Recovered then) {
  // Nothing is kept: the client starts again from the room's snapshot. Answered at once, on
  // the caller's thread; later messages of the room reach it once it has joined.
  then(false, {});
}

std::uint64_t MemoryJournal::last_seq(const std::string& symbol) const {
  std::lock_guard lk(mu_);
  const auto it = seq_.find(symbol);
  return it == seq_.end() ? 0 : it->second;
}

}  // namespace gs
