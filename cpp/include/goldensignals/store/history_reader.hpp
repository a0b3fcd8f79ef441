// Reads of a history file (the SQLite file a SignalStore writes, in this process or another):
// on read-only connections of its own, pooled, with no lock held while reading. Any thread.
// A file with no tables yet reads as empty; so does a missing file when `missing_is_empty`
// (a reader of another process's file), else it is an Error (the server's own file).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gs {

namespace sql {
class Stmt;
}

struct StoredMessage {
  std::string symbol;
  std::uint64_t seq = 0;
  std::string type;        // price_update, agent_update, signal_update, decision_update, ...
  std::int64_t ts_ms = 0;  // when it was stored
  std::string json;
};

class HistoryReader {
 public:
  HistoryReader(std::string path, std::chrono::milliseconds busy_timeout, bool missing_is_empty);
  ~HistoryReader();
  HistoryReader(const HistoryReader&) = delete;
  HistoryReader& operator=(const HistoryReader&) = delete;

  // Newest first: the messages of `symbol` of type `type` with seq < before (0: no bound).
  [[nodiscard]] std::vector<StoredMessage> latest(const std::string& symbol, std::string_view type,
                                                  std::size_t limit,
                                                  std::uint64_t before = 0) const;
  // Oldest first: messages of `symbol` stored in [from_ms, to_ms]; the oldest `limit` of
  // them, or with `newest` the newest `limit`.
  [[nodiscard]] std::vector<StoredMessage> window(const std::string& symbol, std::int64_t from_ms,
                                                  std::int64_t to_ms, std::size_t limit,
                                                  bool newest = false) const;
  // The latest signal_update of every symbol.
  [[nodiscard]] std::vector<StoredMessage> latest_signals() const;
  // What a token's subject keeps of `kind` (SignalStore::keep): (id, body) pairs by id.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> kept(
      const std::string& subject, const std::string& kind) const;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  struct Conn;
  std::unique_ptr<Conn> take() const;  // null: no file yet
  void give_back(std::unique_ptr<Conn> c) const;
  std::vector<StoredMessage> query(std::string_view text,
                                   const std::function<void(sql::Stmt&)>& bind) const;
  // Runs `text` with `bind`, calling `row` for each row; the query's error handling.
  void each(std::string_view text, const std::function<void(sql::Stmt&)>& bind,
            const std::function<void(sql::Stmt&)>& row) const;

  std::string path_;
  std::chrono::milliseconds busy_;
  bool missing_is_empty_;
  mutable std::mutex mu_;  // the idle connections; taken out while in use
  mutable std::vector<std::unique_ptr<Conn>> idle_;
};

}  // namespace gs
