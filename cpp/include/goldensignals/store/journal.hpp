// The journal of room messages: where each gets its per-symbol seq, becomes durable when the
// journal keeps history, and is then delivered for broadcast, in seq order; and where a
// client's `since` is answered. The server's router has one route for room messages: into
// the journal, out through Deliver. Two implementations: MemoryJournal (seqs only, nothing
// kept: GS_DB off) and SignalStore (SQLite); a Redis one plugs in at the same seam.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "goldensignals/core/message_kind.hpp"

namespace gs {

class Journal {
 public:
  // A room message to broadcast: its frame carries the seq.
  struct Publication {
    std::string symbol;
    std::shared_ptr<const std::string> frame;
    MessageKind kind;
  };
  // One step of a delivery: a message to broadcast, or a recover() answer to run.
  using Step = std::variant<Publication, std::function<void()>>;
  // Receives the steps in seq order per symbol, each recover() answer at its point among
  // them; the receiver runs them in the order given. `may_wait`: the caller holds no lock,
  // so the receiver may make it wait for room; false when the journal delivers under its
  // own lock (then the receiver takes the steps at once).
  using Deliver = std::function<void(std::vector<Step> steps, bool may_wait)>;
  // A kept room message, as it was sent (seq included); the server makes it a client message.
  struct Entry {
    MessageKind kind;
    std::string json;
  };
  // The answer to recover(): `recovered` is false when the journal does not reach back to
  // `since` (then `missed` is empty: never a partial recovery).
  using Recovered = std::function<void(bool recovered, std::vector<Entry> missed)>;

  virtual ~Journal() = default;

  // Room messages of `symbol`: each `body` is a JSON object text without seq. They get the
  // symbol's next seqs, in the order given, and are delivered after any earlier ones. False
  // when a message was shed (a price_update when the journal is full). Thread-safe.
  virtual bool append(const std::string& symbol,
                      std::vector<std::pair<MessageKind, std::string>> items) = 0;
  // Delivers `then` (as a Step) between two publications of `symbol`, with the messages of
  // `symbol` after `since` up to that point (at most `max_count`, else recovered = false).
  virtual void recover(const std::string& symbol, std::uint64_t since, std::size_t max_count,
                       Recovered then) = 0;
  // Waits until everything appended before the call was delivered.
  virtual void flush() = 0;
  // The last seq delivered for `symbol` (0: none).
  [[nodiscard]] virtual std::uint64_t last_seq(const std::string& symbol) const = 0;
  // The history `symbol`'s seqs belong to: it changes when that history was lost and began
  // anew (many nodes, Redis restarted without persistence). Empty: one node, no epochs.
  [[nodiscard]] virtual std::string epoch(const std::string& symbol) const {
    (void)symbol;
    return {};
  }
};

// Seqs in memory and nothing kept (the server without a history file): each append is
// numbered and delivered at once, under one lock, so deliveries follow seq order. Seqs
// restart at 1 with the process; a `since` is answered recovered = false.
class MemoryJournal final : public Journal {
 public:
  explicit MemoryJournal(Deliver deliver) : deliver_(std::move(deliver)) {}

  bool append(const std::string& symbol,
              std::vector<std::pair<MessageKind, std::string>> items) override;
  void recover(const std::string& symbol, std::uint64_t since, std::size_t max_count,
               Recovered then) override;
  void flush() override {}
  [[nodiscard]] std::uint64_t last_seq(const std::string& symbol) const override;

 private:
  Deliver deliver_;
  mutable std::mutex mu_;  // the seqs; held across a delivery, which never waits
  std::unordered_map<std::string, std::uint64_t> seq_;
};

}  // namespace gs
