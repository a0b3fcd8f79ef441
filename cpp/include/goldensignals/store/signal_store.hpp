// The durable history of room messages: SQLite in WAL mode, written by one thread in batches.
// Room messages are stamped with their per-symbol seq, committed, and only then handed to the
// broadcaster, so whatever a client was sent is on disk, and seq keeps growing across
// restarts. A store that cannot write is "degraded": messages still flow live, unstored.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "goldensignals/core/message_kind.hpp"
#include "goldensignals/store/history_reader.hpp"
#include "goldensignals/store/journal.hpp"

namespace gs {

struct StoreOptions {
  std::string path;                      // the SQLite file (created if missing)
  bool store_prices = false;             // GS_STORE_PRICES: price_update is stored too
  double retention_days = 30;            // GS_RETENTION_DAYS: older messages are deleted
  std::size_t retention_rows = 100'000;  // GS_RETENTION_ROWS: messages kept per symbol
  std::size_t queue_size = 10'000;  // messages awaiting commit; then prices are shed, others wait
  std::size_t max_batch = 2'048;    // messages per transaction, at most
  std::chrono::milliseconds retention_interval{60'000};  // how often retention runs
  std::chrono::milliseconds retry_interval{2'000};       // degraded: how often writing is retried
  std::chrono::milliseconds busy_timeout{250};           // waiting for another process's lock
  // Group commit: a commit starts at least this long after the previous one started, and
  // what arrives meanwhile joins it (a full batch or queue, or a waiting flush(), starts it at
  // once). Messages further apart than this never wait; under load a commit's fixed cost
  // (the fsync) is shared.
  std::chrono::milliseconds commit_interval{5};
};

// One stored room message: the exact JSON frame the clients were sent (seq included).

struct StoreStats {
  bool degraded = false;
  std::string reason;          // why it is degraded ("" when not)
  std::uint64_t written = 0;   // messages committed since open
  std::uint64_t unstored = 0;  // messages published without being stored (degraded)
  std::uint64_t withheld = 0;  // degraded too long: messages not published (their seq unsafe)
  std::uint64_t commits = 0;   // transactions committed
  std::uint64_t shed = 0;      // price_updates dropped because the queue was full
  std::uint64_t express = 0;   // unstored prices published by the express route (no commit)
  std::uint64_t retained_deleted = 0;  // messages deleted by retention
  std::size_t queued = 0;              // messages awaiting commit now
  double write_waiting_s = 0;          // how long the write in progress has waited (0: none)
};

class SignalStore final : public Journal {
 public:
  // Receives, once per batch and after the batch committed (or failed to: degraded), its
  // steps: the room messages in seq order per symbol, with each recover() answer at its
  // point among them. Called on the store's thread, batch after batch; the receiver runs the
  // steps in the order given, here or on one thread of its own (the server: its router's
  // strand, so the network thread fans out as it does with the store off).
  using Publish = Deliver;
  // Told when the store becomes degraded (true, reason) and when it recovers (false, "").
  using Notify = std::function<void(bool degraded, const std::string& reason)>;

  // Opens `o.path` and starts the writer. Never throws for an unusable file: the store
  // starts degraded, says why, and retries every retry_interval. Throws InvalidArgument for
  // bad options.
  SignalStore(StoreOptions o, Publish publish, Notify notify);
  ~SignalStore();  // flushes what is queued, then stops
  SignalStore(const SignalStore&) = delete;
  SignalStore& operator=(const SignalStore&) = delete;

  // A room message: `body` is a JSON object text without seq. It gets the symbol's next
  // seq, is stored (prices only if store_prices) and then published. Messages given in one
  // call are published in that order. Unstored prices take the express route when the
  // symbol has nothing queued here and seqs reserved in the file: numbered and published on
  // the caller's thread, never waiting for a commit. When the queue is full a price_update
  // is shed (false); other kinds wait for room. Thread-safe.
  bool append(const std::string& symbol,
              std::vector<std::pair<MessageKind, std::string>> items) override;

  // Hands `then` over (a Step of Publish) at the point between two publications of `symbol`:
  // it gets the stored messages with since < seq <= the last seq handed over (at most
  // `max_count`, else recovered = false), and every later message of `symbol` comes after it.
  // Thread-safe.
  void recover(const std::string& symbol, std::uint64_t since, std::size_t max_count,
               Recovered then) override;

  // Waits until everything appended before this call is committed and handed to Publish.
  void flush() override;

  // Room messages numbered elsewhere (a cluster node relaying what the symbol's owner
  // published): `frame` already carries `seq`, and a symbol's messages come in seq order.
  // Stored like an append (prices only if store_prices) and published after everything
  // queued before, never renumbered. A gap before `seq` (this node joined late, or messages
  // were lost) becomes the symbol's floor: a `since` below it is answered recovered =
  // false. Never waits: false when the queue is full (the caller holds the message and
  // tries again). Thread-safe.
  bool relay(const std::string& symbol, std::uint64_t seq, MessageKind kind,
             std::shared_ptr<const std::string> frame);
  // What a token's subject keeps across connections and restarts (its custom alerts and
  // portfolios): `body` (a JSON text) under (subject, kind, id), or with none, deleted.
  // Written with the next commit, on the writer's thread; lost while the store is degraded.
  // Never waits. Thread-safe.
  void keep(const std::string& subject, const std::string& kind, const std::string& id,
            std::optional<std::string> body);
  // What `subject` keeps of `kind`: (id, body) pairs by id, keeps not yet committed
  // included (a client back at once finds what it just kept). Throws gs::Error when the
  // file is unreadable.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> kept(
      const std::string& subject, const std::string& kind) const;
  // Hands `step` over after everything queued so far (a cluster's recovery answer, placed
  // between two publications of its symbol). Thread-safe.
  void mark(std::function<void()> step);

  // Reads (any thread; read connections of their own, no lock held while reading).
  // Newest first: the signal_updates of `symbol` with seq < before (0: no bound).
  [[nodiscard]] std::vector<StoredMessage> signals(const std::string& symbol, std::size_t limit,
                                                   std::uint64_t before = 0) const {
    return reads_.latest(symbol, "signal_update", limit, before);
  }
  // Oldest first: messages of `symbol` stored in [from_ms, to_ms], at most `limit`.
  [[nodiscard]] std::vector<StoredMessage> window(const std::string& symbol, std::int64_t from_ms,
                                                  std::int64_t to_ms, std::size_t limit) const {
    return reads_.window(symbol, from_ms, to_ms, limit);
  }
  // The latest signal_update of every symbol (the snapshots a restart starts with).
  [[nodiscard]] std::vector<StoredMessage> latest_signals() const {
    return reads_.latest_signals();
  }

  [[nodiscard]] std::uint64_t last_seq(const std::string& symbol) const override;
  [[nodiscard]] bool degraded() const;
  [[nodiscard]] StoreStats stats() const;
  [[nodiscard]] const StoreOptions& options() const noexcept { return opts_; }

 private:
  struct Db;
  struct Append {
    std::string symbol;
    MessageKind kind;
    std::string body;
  };
  struct Recover {
    std::string symbol;
    std::uint64_t since;
    std::size_t max_count;
    Recovered then;
  };
  struct Barrier {
    std::shared_ptr<std::promise<void>> done;
  };
  struct Relayed {
    std::string symbol;
    std::uint64_t seq;
    MessageKind kind;
    std::shared_ptr<const std::string> frame;
  };
  struct Mark {
    std::function<void()> step;
  };
  // Commit a further reservation for an express symbol (its seqs near the reserved end).
  struct Reserve {
    std::string symbol;
  };
  // A client's saved state (custom alerts, portfolios): a body to keep, or none to delete.
  struct Keep {
    std::string subject, kind, id;
    std::optional<std::string> body;
    std::uint64_t version = 0;  // its entry in unkept_
  };
  using KeepKey = std::tuple<std::string, std::string, std::string>;  // subject, kind, id
  struct Unkept {
    std::optional<std::string> body;
    std::uint64_t version = 0;
  };
  using Item = std::variant<Append, Recover, Barrier, Reserve, Relayed, Mark, Keep>;
  // A symbol the writer handed to the express route (nothing of it queued): the last seq
  // issued and the file's committed reservation, which express seqs never pass.
  struct Express {
    std::uint64_t next = 0;
    std::uint64_t ceiling = 0;
    bool reserving = false;  // a Reserve is queued
  };
  struct Stamped;

  void run();
  void process(std::vector<Item>& batch);
  bool write(const std::vector<Stamped>& rows,
             std::unordered_map<std::string, std::uint64_t> reserve,
             const std::vector<const Keep*>& keeps = {});
  // mu_ held. True when `items` (unstored prices) went out by the express route.
  bool express(const std::string& symbol, std::vector<std::pair<MessageKind, std::string>>& items);
  // mu_ held. The writer takes `symbol`'s numbering back from the express route.
  void take_back(const std::string& symbol);
  // Every symbol back from the express route (before the file's seqs are read again).
  void revoke_express();
  // After a batch is published: its symbols with nothing left queued go to the express
  // route, and Reserve items raise their symbols' ceilings.
  void hand_to_express(const std::vector<Item>& batch);
  void try_open();
  void load_seq(Db& db);
  bool retention();  // true: more to delete
  void go_degraded(const std::string& reason);
  void go_healthy();
  void jump_seq();               // the last run may have published seqs the file does not know
  void settle_start(bool jump);  // once per store: jump, or trust the file's seqs
  [[nodiscard]] bool marker_missing() const;
  // The seq above which a message published unstored could be issued again after a restart.
  [[nodiscard]] std::uint64_t unstored_ceiling(const std::string& symbol) const;
  Step answer(Recover& r);

  const StoreOptions opts_;
  // Present while every seq published is accounted for in the file (stored, reserved or
  // below a floor); removed before a message goes out unstored.
  const std::string marker_;
  Publish publish_;
  Notify notify_;

  mutable std::mutex mu_;  // the queue and flags below; never held across I/O
  std::condition_variable not_empty_, not_full_;
  std::deque<Item> queue_;  // at most queue_size appends (recover and barrier items are few)
  // The newest keep of each key queued or in a batch not yet written (erased once written,
  // or lost to a degraded file): what kept() lays over the file.
  std::map<KeepKey, Unkept> unkept_;
  std::uint64_t keep_version_ = 0;
  std::size_t queued_appends_ = 0;
  std::size_t queued_flushes_ = 0;  // a flush() waiting: the next commit does not wait
  bool stopping_ = false;
  // Appends and recoveries of a symbol queued or in a batch not yet published: while any
  // are, the symbol's messages all go through the writer, in seq order.
  std::unordered_map<std::string, std::size_t> pending_;
  std::unordered_map<std::string, Express> express_;  // symbols on the express route

  // Writer-thread state.
  std::unique_ptr<Db> db_;
  std::unordered_map<std::string, std::uint64_t> next_;      // last seq issued per symbol
  std::unordered_map<std::string, std::uint64_t> pub_;       // last seq handed over per symbol
  std::unordered_map<std::string, std::uint64_t> reserved_;  // committed upper bound of issued
  std::unordered_map<std::string, std::uint64_t> lost_;      // highest seq published unstored
  std::unordered_map<std::string, std::uint64_t> floor_;     // below it, history is incomplete
  std::uint64_t base_ = 0;       // where a symbol the file does not know starts its seq
  bool marker_checked_ = false;  // the file's tables were read once and the marker looked at
  bool file_existed_ = false;    // the file was there before this store first opened it
  bool marker_stuck_ = false;    // degraded and the marker could not be removed
  std::chrono::steady_clock::time_point next_retention_, next_retry_;
  std::chrono::steady_clock::time_point next_commit_{};  // group commit: not before this
  bool degraded_ = false;  // writer's view; stats_.degraded is the shared one

  mutable std::mutex state_mu_;                          // the fields below (read by other threads)
  std::unordered_map<std::string, std::uint64_t> last_;  // last published seq per symbol
  StoreStats stats_;
  // When the write in progress began (steady clock, ms; 0: none): a stuck disk shows here.
  std::atomic<std::int64_t> write_began_ms_{0};

  HistoryReader reads_;

  std::thread writer_;
};

}  // namespace gs
