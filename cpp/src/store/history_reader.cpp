#include "goldensignals/store/history_reader.hpp"

#include <algorithm>
#include <filesystem>

#include "goldensignals/core/errors.hpp"
#include "sqlite.hpp"

namespace gs {

namespace {
constexpr std::size_t kIdle = 4;  // connections kept open between reads
}

struct HistoryReader::Conn {
  Conn(const std::string& path, std::chrono::milliseconds busy) : conn(path, SQLITE_OPEN_READONLY) {
    sqlite3_busy_timeout(conn.handle(), static_cast<int>(busy.count()));
  }
  sql::Conn conn;
};

HistoryReader::HistoryReader(std::string path, std::chrono::milliseconds busy_timeout,
                             bool missing_is_empty)
    : path_(std::move(path)), busy_(busy_timeout), missing_is_empty_(missing_is_empty) {
  if (path_.empty()) throw InvalidArgument("HistoryReader: path is empty; give the history file");
}

HistoryReader::~HistoryReader() = default;

std::unique_ptr<HistoryReader::Conn> HistoryReader::take() const {
  {
    std::lock_guard lk(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  std::error_code ec;
  if (missing_is_empty_ && !std::filesystem::exists(path_, ec)) return nullptr;
  try {
    return std::make_unique<Conn>(path_, busy_);
  } catch (const sql::Error& e) {
    throw Error("history " + path_ + " is unavailable: " + sql::classify(e));
  }
}

void HistoryReader::give_back(std::unique_ptr<Conn> c) const {
  std::lock_guard lk(mu_);
  if (idle_.size() < kIdle) idle_.push_back(std::move(c));
}

void HistoryReader::each(std::string_view text, const std::function<void(sql::Stmt&)>& bind,
                         const std::function<void(sql::Stmt&)>& row) const {
  auto c = take();
  if (!c) return;
  try {
    auto q = c->conn.prepare(text);
    bind(q);
    while (q.step()) row(q);
  } catch (const sql::Error& e) {
    // Tables are made by the first writer; before that the file reads as empty.
    if ((e.code() & 0xff) == SQLITE_ERROR &&
        std::string_view(e.what()).find("no such table") != std::string_view::npos) {
      give_back(std::move(c));
      return;
    }
    throw Error("history " + path_ + " is unavailable: " + sql::classify(e));
  }
  give_back(std::move(c));
}

std::vector<StoredMessage> HistoryReader::query(std::string_view text,
                                                const std::function<void(sql::Stmt&)>& bind) const {
  std::vector<StoredMessage> out;
  each(text, bind, [&](sql::Stmt& q) {
    out.push_back(StoredMessage{q.text(0), sql::to_u64(q.i64(1)), q.text(2), q.i64(3), q.text(4)});
  });
  return out;
}

std::vector<std::pair<std::string, std::string>> HistoryReader::kept(
    const std::string& subject, const std::string& kind) const {
  std::vector<std::pair<std::string, std::string>> out;
  each(
      "SELECT id, body FROM kept WHERE subject = ? AND kind = ? ORDER BY id",
      [&](sql::Stmt& q) { q.bind(1, subject).bind(2, kind); },
      [&](sql::Stmt& q) { out.emplace_back(q.text(0), q.text(1)); });
  return out;
}

std::vector<StoredMessage> HistoryReader::latest(const std::string& symbol, std::string_view type,
                                                 std::size_t limit, std::uint64_t before) const {
  const auto bound = before == 0 ? INT64_MAX : sql::to_i64(before);
  if (type == "signal_update") {
    // The partial index holds the signals only (the literal type is what lets SQLite use it).
    return query(
        "SELECT symbol, seq, type, ts_ms, json FROM messages INDEXED BY signals_by_seq WHERE "
        "symbol = ? AND type = 'signal_update' AND seq < ? ORDER BY seq DESC LIMIT ?",
        [&](sql::Stmt& q) { q.bind(1, symbol).bind(2, bound).bind(3, sql::to_i64(limit)); });
  }
  return query(
      "SELECT symbol, seq, type, ts_ms, json FROM messages WHERE symbol = ? AND type = ? AND "
      "seq < ? ORDER BY seq DESC LIMIT ?",
      [&](sql::Stmt& q) {
        q.bind(1, symbol).bind(2, type).bind(3, bound).bind(4, sql::to_i64(limit));
      });
}

std::vector<StoredMessage> HistoryReader::window(const std::string& symbol, std::int64_t from_ms,
                                                 std::int64_t to_ms, std::size_t limit,
                                                 bool newest) const {
  auto rows = query(newest ? "SELECT symbol, seq, type, ts_ms, json FROM messages WHERE symbol = "
                             "? AND ts_ms >= ? AND ts_ms <= ? ORDER BY seq DESC LIMIT ?"
                           : "SELECT symbol, seq, type, ts_ms, json FROM messages WHERE symbol = "
                             "? AND ts_ms >= ? AND ts_ms <= ? ORDER BY seq LIMIT ?",
                    [&](sql::Stmt& q) {
                      q.bind(1, symbol).bind(2, from_ms).bind(3, to_ms).bind(4, sql::to_i64(limit));
                    });
  if (newest) std::reverse(rows.begin(), rows.end());
  return rows;
}

std::vector<StoredMessage> HistoryReader::latest_signals() const {
  return query(
      "SELECT m.symbol, m.seq, m.type, m.ts_ms, m.json FROM messages m JOIN (SELECT symbol, "
      "max(seq) AS seq FROM messages WHERE type = 'signal_update' GROUP BY symbol) l ON "
      "m.symbol = l.symbol AND m.seq = l.seq",
      [](sql::Stmt&) {});
}

}  // namespace gs
