#include "goldensignals/store/signal_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/thread_name.hpp"
#include "goldensignals/core/validate.hpp"
#include "sqlite.hpp"

namespace gs {

namespace {

// Seqs reserved ahead in the file: every seq published while the file takes writes is at
// most a committed reservation, so a restart (even after kill -9) never issues it again.
constexpr std::uint64_t kReserve = 1000;
// A write waiting this long for the disk makes the store report itself degraded (stuck).
constexpr std::int64_t kStuckAfterMs = 5000;
constexpr std::int64_t kRetentionChunk = 5000;  // rows deleted per symbol and transaction

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS messages(
  symbol TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY(symbol, seq)) WITHOUT ROWID;
DROP INDEX IF EXISTS messages_by_type;
DROP INDEX IF EXISTS messages_by_time;
CREATE INDEX IF NOT EXISTS signals_by_seq ON messages(symbol, seq) WHERE type = 'signal_update';
CREATE TABLE IF NOT EXISTS symbols(
  symbol TEXT PRIMARY KEY,
  reserved INTEGER NOT NULL DEFAULT 0,
  floor INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kept(
  subject TEXT NOT NULL,
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY(subject, kind, id)) WITHOUT ROWID;
)sql";

// Microseconds since the Unix epoch (at millisecond resolution): the seq a restart jumps to
// when the last run may have published seqs the file does not know. Unstored messages never
// pass the end of the current millisecond (see unstored_ceiling).
std::uint64_t now_us() { return sql::to_u64(now_ms()) * 1000; }

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Makes a change to `file`'s directory entry durable (best effort: a crash of the machine,
// not only of the process, must not bring a removed marker back).
void sync_dir_of(const std::string& file) {
  auto dir = std::filesystem::path(file).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

struct SignalStore::Db {
  Db(const std::string& path, int flags, std::chrono::milliseconds busy) : conn(path, flags) {
    sqlite3_busy_timeout(conn.handle(), static_cast<int>(busy.count()));
  }
  sql::Conn conn;  // declared first: destroyed after the statements
  sql::Stmt insert, reserve, floor, probe, range, keep, forget;
};

struct SignalStore::Stamped {
  std::string symbol;
  std::uint64_t seq;
  MessageKind kind;
  std::int64_t ts_ms;
  std::shared_ptr<const std::string> frame;
  bool store;
  bool relayed = false;  // numbered elsewhere: published even when the write failed
};

SignalStore::SignalStore(StoreOptions o, Publish publish, Notify notify)
    : opts_(std::move(o)),
      marker_(opts_.path + "-accounted"),
      publish_(std::move(publish)),
      notify_(std::move(notify)),
      reads_(opts_.path, opts_.busy_timeout, false) {
  if (opts_.path.empty()) throw InvalidArgument("SignalStore: path is empty; give a file path");
  if (!std::isfinite(opts_.retention_days) || opts_.retention_days <= 0) {
    throw InvalidArgument("GS_RETENTION_DAYS " + fmt_num(opts_.retention_days) +
                          " is not accepted; expected a number of days > 0");
  }
  if (opts_.retention_rows < 1) {
    throw InvalidArgument("GS_RETENTION_ROWS 0 is not accepted; expected at least 1");
  }
  if (opts_.queue_size < 1 || opts_.max_batch < 1) {
    throw InvalidArgument("SignalStore: queue_size and max_batch must be at least 1");
  }
  const auto now = std::chrono::steady_clock::now();
  next_retention_ = now;  // once at start, then every retention_interval
  next_retry_ = now;
  try_open();
  writer_ = std::thread([this] {
    name_this_thread("gs-store");
    run();
  });
}

SignalStore::~SignalStore() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  if (writer_.joinable()) writer_.join();
}

// --- opening ----------------------------------------------------------------------------------

void SignalStore::load_seq(Db& db) {
  auto has = db.conn.prepare(
      "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('messages','symbols')");
  has.step();
  if (has.i64(0) < 2) {
    // A new file: no run published anything it should know. But a file a run created and
    // could not set up (a full or read-only disk) may have had seqs sent from it unstored.
    settle_start(file_existed_ && marker_missing());
    return;
  }
  auto merge = [&](const std::string& s, std::uint64_t v) {
    auto& n = next_[s];
    n = std::max(n, v);
    auto& p = pub_[s];
    p = std::max(p, v);  // everything up to here is final: recovery may start above it
  };
  auto q = db.conn.prepare("SELECT symbol, max(seq) FROM messages GROUP BY symbol");
  while (q.step()) merge(q.text(0), sql::to_u64(q.i64(1)));
  auto r = db.conn.prepare("SELECT symbol, reserved, floor FROM symbols");
  while (r.step()) {
    const auto s = r.text(0);
    merge(s, sql::to_u64(r.i64(1)));
    reserved_[s] = std::max(reserved_[s], sql::to_u64(r.i64(1)));
    floor_[s] = std::max(floor_[s], sql::to_u64(r.i64(2)));
  }
  settle_start(marker_missing());
  std::lock_guard lk(state_mu_);
  for (const auto& [s, v] : pub_) last_[s] = std::max(last_[s], v);
}

void SignalStore::settle_start(bool jump) {
  if (marker_checked_) return;  // decided once per store, at the first look at the file
  marker_checked_ = true;
  if (jump) jump_seq();
}

bool SignalStore::marker_missing() const {
  std::error_code ec;
  return !std::filesystem::exists(marker_, ec);
}

void SignalStore::jump_seq() {
  // The last run ended while messages it published were not all accounted for in the file
  // (it was degraded, or the file predates the marker). Its seqs are below the time now in
  // microseconds (see unstored_ceiling): start above it, and refuse recovery from below.
  std::uint64_t top = base_;
  for (const auto& [s, v] : next_) top = std::max(top, v);
  base_ = std::max(top + 1, now_us());
  for (auto& [s, v] : next_) {
    v = base_;
    pub_[s] = base_;
    lost_[s] = base_;  // written as the symbol's floor once the file takes writes
  }
}

std::uint64_t SignalStore::unstored_ceiling(const std::string& symbol) const {
  const auto it = reserved_.find(symbol);
  const std::uint64_t reserved = it == reserved_.end() ? 0 : it->second;
  // Up to the end of the current millisecond, in microseconds: a restart (which takes far
  // longer than a millisecond) jumps to its own start in microseconds, above all of these,
  // and a run that just jumped may still send 999 messages in its first millisecond.
  const std::uint64_t clock = (sql::to_u64(now_ms()) + 1) * 1000 - 1;
  return marker_stuck_ ? reserved : std::max(reserved, clock);
}

void SignalStore::try_open() {
  db_.reset();
  revoke_express();  // the seqs are read again, and may jump
  if (!marker_checked_) {
    std::error_code ec;
    file_existed_ = std::filesystem::exists(opts_.path, ec);
  }
  try {
    auto db = std::make_unique<Db>(opts_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   opts_.busy_timeout);
    load_seq(*db);  // even from a file we cannot write: seq must not go back
    if (sqlite3_db_readonly(db->conn.handle(), "main") == 1) {
      throw sql::Error(SQLITE_READONLY, "opened read-only");
    }
    {
      auto mode = db->conn.prepare("PRAGMA journal_mode=WAL");
      mode.step();
      if (mode.text(0) != "wal") {
        throw sql::Error(SQLITE_CANTOPEN,
                         "cannot use WAL mode (journal_mode " + mode.text(0) + ")");
      }
    }
    db->conn.exec("PRAGMA synchronous=FULL");
    db->conn.exec(kSchema);
    load_seq(*db);  // a file that was locked at the first try
    db->insert = db->conn.prepare(
        "INSERT OR REPLACE INTO messages(symbol, seq, type, ts_ms, json) VALUES(?,?,?,?,?)");
    db->reserve = db->conn.prepare(
        "INSERT INTO symbols(symbol, reserved) VALUES(?1, ?2) "
        "ON CONFLICT(symbol) DO UPDATE SET reserved = max(reserved, ?2)");
    db->floor = db->conn.prepare(
        "INSERT INTO symbols(symbol, floor) VALUES(?1, ?2) "
        "ON CONFLICT(symbol) DO UPDATE SET floor = max(floor, ?2)");
    db->probe =
        db->conn.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('last_open_ms', ?)");
    db->keep =
        db->conn.prepare("INSERT OR REPLACE INTO kept(subject, kind, id, body) VALUES(?,?,?,?)");
    db->forget = db->conn.prepare("DELETE FROM kept WHERE subject = ? AND kind = ? AND id = ?");
    db->range = db->conn.prepare(
        "SELECT type, json FROM messages WHERE symbol = ? AND seq > ? AND seq <= ? "
        "ORDER BY seq LIMIT ?");
    // A real write proves the file takes them (a lock, a full disk, a read-only mount).
    db->conn.exec("BEGIN IMMEDIATE");
    try {
      db->probe.bind(1, now_ms()).step();
      db->probe.reset();
      for (const auto& [s, lost] : lost_) {  // messages that went out unstored
        db->floor.bind(1, s).bind(2, sql::to_i64(lost)).step();
        db->floor.reset();
      }
      for (const auto& [s, v] : next_) {  // and seqs issued meanwhile, stored or not
        db->reserve.bind(1, s).bind(2, sql::to_i64(v + kReserve)).step();
        db->reserve.reset();
      }
      db->conn.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db->conn.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    for (const auto& [s, lost] : lost_) floor_[s] = std::max(floor_[s], lost);
    for (const auto& [s, v] : next_) reserved_[s] = std::max(reserved_[s], v + kReserve);
    lost_.clear();
    // Everything published is now accounted for. If the marker cannot be made, the next
    // start jumps seq as after a degraded run: safe, only less tidy.
    const int fd = ::open(marker_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) ::close(fd);
    db_ = std::move(db);
    go_healthy();
  } catch (const sql::Error& e) {
    // The file's seqs could not be read (locked, corrupt, unreadable): messages sent now
    // must not reuse numbers it holds.
    if (file_existed_) settle_start(true);
    go_degraded(sql::classify(e));
  }
}

void SignalStore::go_degraded(const std::string& reason) {
  db_.reset();
  next_retry_ = std::chrono::steady_clock::now() + opts_.retry_interval;
  const bool was = degraded_;
  degraded_ = true;
  // Before any message goes out unstored: a restart must not trust the file's seqs.
  std::string marker_note;
  marker_stuck_ = false;
  if (::unlink(marker_.c_str()) == 0) {
    sync_dir_of(marker_);
  } else if (errno != ENOENT) {
    // A restart would trust the file: only seqs it has reserved may go out unstored.
    marker_stuck_ = true;
    marker_note = "; " + marker_ + " cannot be removed (" + std::strerror(errno) +
                  "), so messages past the file's reserved seqs are withheld";
  }
  const std::string text = "history store " + opts_.path + " is degraded: " + reason +
                           "; live messages continue, unstored; retrying every " +
                           fmt_num(static_cast<double>(opts_.retry_interval.count()) / 1000.0) +
                           " s" + marker_note;
  {
    std::lock_guard lk(state_mu_);
    stats_.degraded = true;
    stats_.reason = text;
  }
  if (!was && notify_) notify_(true, text);
}

void SignalStore::go_healthy() {
  const bool was = degraded_;
  degraded_ = false;
  {
    std::lock_guard lk(state_mu_);
    stats_.degraded = false;
    stats_.reason.clear();
  }
  if (was && notify_) notify_(false, "history store " + opts_.path + " is writing again");
}

// --- the writer -------------------------------------------------------------------------------

bool SignalStore::append(const std::string& symbol,
                         std::vector<std::pair<MessageKind, std::string>> items) {
  std::unique_lock lk(mu_);
  const bool sheddable = std::all_of(items.begin(), items.end(), [](const auto& i) {
    return i.first == MessageKind::PriceUpdate;
  });
  if (sheddable && !opts_.store_prices && express(symbol, items)) {
    lk.unlock();
    not_empty_.notify_one();  // a Reserve may have been queued
    return true;
  }
  if (queued_appends_ + items.size() > opts_.queue_size) {
    if (sheddable) {
      std::lock_guard sl(state_mu_);
      stats_.shed += items.size();
      return false;
    }
    not_full_.wait(lk, [&] { return stopping_ || queued_appends_ < opts_.queue_size; });
    if (stopping_) return false;
  }
  for (auto& [kind, body] : items) {
    queue_.emplace_back(Append{symbol, kind, std::move(body)});
    ++queued_appends_;
  }
  pending_[symbol] += items.size();
  lk.unlock();
  not_empty_.notify_one();
  return true;
}

bool SignalStore::express(const std::string& symbol,
                          std::vector<std::pair<MessageKind, std::string>>& items) {
  if (pending_.contains(symbol)) return false;  // after those, in seq order
  const auto it = express_.find(symbol);
  if (it == express_.end()) return false;
  auto& x = it->second;
  if (x.next + items.size() > x.ceiling) return false;  // the writer withholds or reserves
  std::vector<Step> steps;
  steps.reserve(items.size());
  for (auto& [kind, body] : items) {
    steps.emplace_back(
        Publication{symbol, std::make_shared<const std::string>(with_seq(++x.next, body)), kind});
  }
  // Under mu_, so nothing of the symbol queued after these is published before them; the
  // receiver takes them without waiting (router full: prices are shed before they get here).
  publish_(std::move(steps), false);
  {
    std::lock_guard sl(state_mu_);
    last_[symbol] = x.next;
    stats_.express += items.size();
  }
  if (!x.reserving && x.next + kReserve / 2 > x.ceiling) {
    x.reserving = true;
    queue_.emplace_back(Reserve{symbol});
  }
  return true;
}

void SignalStore::take_back(const std::string& symbol) {
  const auto it = express_.find(symbol);
  if (it == express_.end()) return;
  auto& n = next_[symbol];
  n = std::max(n, it->second.next);
  auto& p = pub_[symbol];
  p = std::max(p, it->second.next);
}

void SignalStore::revoke_express() {
  std::lock_guard lk(mu_);
  for (const auto& [s, x] : express_) take_back(s);
  express_.clear();
}

bool SignalStore::relay(const std::string& symbol, std::uint64_t seq, MessageKind kind,
                        std::shared_ptr<const std::string> frame) {
  {
    std::lock_guard lk(mu_);
    if (queued_appends_ >= opts_.queue_size) return false;
    queue_.emplace_back(Relayed{symbol, seq, kind, std::move(frame)});
    ++queued_appends_;
  }
  not_empty_.notify_one();
  return true;
}

void SignalStore::keep(const std::string& subject, const std::string& kind, const std::string& id,
                       std::optional<std::string> body) {
  {
    std::lock_guard lk(mu_);
    const auto version = ++keep_version_;
    unkept_[KeepKey{subject, kind, id}] = Unkept{body, version};
    queue_.emplace_back(Keep{subject, kind, id, std::move(body), version});
  }
  not_empty_.notify_one();
}

std::vector<std::pair<std::string, std::string>> SignalStore::kept(const std::string& subject,
                                                                   const std::string& kind) const {
  // The unwritten keeps first, then the file: one written in between is in the file and
  // still in the copy, with the same body.
  std::vector<std::pair<std::string, std::optional<std::string>>> unwritten;
  {
    std::lock_guard lk(mu_);
    for (auto it = unkept_.lower_bound(KeepKey{subject, kind, {}});
         it != unkept_.end() && std::get<0>(it->first) == subject && std::get<1>(it->first) == kind;
         ++it) {
      unwritten.emplace_back(std::get<2>(it->first), it->second.body);
    }
  }
  auto rows = reads_.kept(subject, kind);
  if (unwritten.empty()) return rows;
  std::map<std::string, std::string> by_id(std::make_move_iterator(rows.begin()),
                                           std::make_move_iterator(rows.end()));
  for (auto& [id, body] : unwritten) {
    if (body) {
      by_id[id] = std::move(*body);
    } else {
      by_id.erase(id);
    }
  }
  return {std::make_move_iterator(by_id.begin()), std::make_move_iterator(by_id.end())};
}

void SignalStore::mark(std::function<void()> step) {
  {
    std::lock_guard lk(mu_);
    queue_.emplace_back(Mark{std::move(step)});
  }
  not_empty_.notify_one();
}

void SignalStore::recover(const std::string& symbol, std::uint64_t since, std::size_t max_count,
                          Recovered then) {
  {
    std::lock_guard lk(mu_);
    queue_.emplace_back(Recover{symbol, since, max_count, std::move(then)});
    ++pending_[symbol];
  }
  not_empty_.notify_one();
}

void SignalStore::flush() {
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    queue_.emplace_back(Barrier{std::move(done)});
    ++queued_flushes_;
  }
  not_empty_.notify_one();
  f.wait();
}

void SignalStore::run() {
  for (;;) {
    std::vector<Item> batch;
    {
      std::unique_lock lk(mu_);
      auto wake = next_retention_;
      if (degraded_) wake = std::min(wake, next_retry_);
      not_empty_.wait_until(lk, wake, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      // Group commit: too soon after the last one, let more join, until a batch is full (or
      // the queue: producers then wait for room) or a flush() waits. Recoveries alone do not.
      const std::size_t full = std::min(opts_.max_batch, opts_.queue_size);
      if (queued_appends_ > 0 && std::chrono::steady_clock::now() < next_commit_) {
        not_empty_.wait_until(lk, next_commit_, [&] {
          return stopping_ || queued_appends_ >= full || queued_flushes_ > 0;
        });
      }
      std::size_t appends = 0;
      while (!queue_.empty() && appends < opts_.max_batch) {
        auto& item = queue_.front();
        if (const auto* a = std::get_if<Append>(&item)) {
          ++appends;
          take_back(a->symbol);
        } else if (std::holds_alternative<Relayed>(item)) {
          ++appends;
        } else if (const auto* r = std::get_if<Recover>(&item)) {
          take_back(r->symbol);
        } else if (std::holds_alternative<Barrier>(item)) {
          --queued_flushes_;
        }
        batch.push_back(std::move(item));
        queue_.pop_front();
      }
      queued_appends_ -= appends;
    }
    not_full_.notify_all();
    if (!batch.empty()) process(batch);
    const auto now = std::chrono::steady_clock::now();
    if (degraded_ && now >= next_retry_) try_open();
    if (now >= next_retention_) {
      const bool more = retention();  // a backlog goes in chunks, between batches
      next_retention_ = now + (more ? std::chrono::milliseconds(50) : opts_.retention_interval);
    }
  }
}

void SignalStore::process(std::vector<Item>& batch) {
  std::vector<Stamped> rows;
  rows.reserve(batch.size());
  const std::int64_t ts = now_ms();
  std::unordered_map<std::string, std::uint64_t> reserve;  // for express symbols
  std::unordered_map<std::string, std::uint64_t> relayed;  // the last seq relayed, per symbol
  std::vector<const Keep*> keeps;
  for (auto& item : batch) {
    if (const auto* k = std::get_if<Keep>(&item)) keeps.push_back(k);
    if (auto* a = std::get_if<Append>(&item)) {
      const auto seq = ++next_.try_emplace(a->symbol, base_).first->second;
      const bool store = a->kind != MessageKind::PriceUpdate || opts_.store_prices;
      rows.push_back(Stamped{a->symbol, seq, a->kind, ts,
                             std::make_shared<const std::string>(with_seq(seq, a->body)), store});
    } else if (auto* rel = std::get_if<Relayed>(&item)) {
      auto& n = next_[rel->symbol];
      n = std::max(n, rel->seq);
      // A gap before it: the history of the symbol below it is incomplete here.
      auto& before = relayed.try_emplace(rel->symbol, pub_[rel->symbol]).first->second;
      if (before + 1 < rel->seq) {
        auto& lost = lost_[rel->symbol];
        lost = std::max(lost, rel->seq - 1);
      }
      before = rel->seq;
      const bool store = rel->kind != MessageKind::PriceUpdate || opts_.store_prices;
      rows.push_back(
          Stamped{rel->symbol, rel->seq, rel->kind, ts, std::move(rel->frame), store, true});
    } else if (auto* r = std::get_if<Reserve>(&item)) {
      std::lock_guard lk(mu_);
      const auto x = express_.find(r->symbol);
      const auto next = std::max(next_[r->symbol], x == express_.end() ? 0 : x->second.next);
      reserve[r->symbol] = next + kReserve;
    }
  }
  const bool stored = write(rows, std::move(reserve), keeps);
  std::vector<std::shared_ptr<std::promise<void>>> barriers;  // released once figures are set
  std::vector<Step> steps;
  steps.reserve(batch.size());
  std::size_t k = 0;
  std::uint64_t withheld = 0;
  for (auto& item : batch) {
    if (std::holds_alternative<Append>(item) || std::holds_alternative<Relayed>(item)) {
      auto& r = rows[k++];
      if (!stored && !r.relayed && r.seq > unstored_ceiling(r.symbol)) {
        ++withheld;  // its seq could be issued again after a restart: never sent
        continue;
      }
      if (r.store && !stored) lost_[r.symbol] = std::max(lost_[r.symbol], r.seq);
      pub_[r.symbol] = r.seq;
      steps.emplace_back(Publication{r.symbol, std::move(r.frame), r.kind});
    } else if (auto* rec = std::get_if<Recover>(&item)) {
      steps.push_back(answer(*rec));
    } else if (auto* b = std::get_if<Barrier>(&item)) {
      barriers.push_back(std::move(b->done));
    } else if (auto* m = std::get_if<Mark>(&item)) {
      steps.emplace_back(std::move(m->step));
    }
  }
  if (!steps.empty()) publish_(std::move(steps), true);
  {
    std::lock_guard lk(state_mu_);
    for (const auto& r : rows) last_[r.symbol] = pub_[r.symbol];
    stats_.withheld += withheld;
    if (!stored) {
      stats_.unstored += static_cast<std::uint64_t>(
          std::count_if(rows.begin(), rows.end(), [](const Stamped& r) { return r.store; }));
    }
  }
  hand_to_express(batch);
  if (!keeps.empty()) {  // written, or lost with a degraded file: no longer laid over it
    std::lock_guard lk(mu_);
    for (const auto* kp : keeps) {
      const auto it = unkept_.find(KeepKey{kp->subject, kp->kind, kp->id});
      if (it != unkept_.end() && it->second.version == kp->version) unkept_.erase(it);
    }
  }
  for (auto& b : barriers) b->set_value();
}

void SignalStore::hand_to_express(const std::vector<Item>& batch) {
  std::lock_guard lk(mu_);
  auto hand = [&](const std::string& symbol) {
    const auto p = pending_.find(symbol);
    if (p == pending_.end() || --p->second > 0) return;
    pending_.erase(p);
    // Published up to next_: the symbol's next messages may go out on the caller's thread.
    auto& x = express_[symbol];
    x.next = next_[symbol];
    x.ceiling = reserved_[symbol];
  };
  for (const auto& item : batch) {
    if (const auto* a = std::get_if<Append>(&item)) {
      hand(a->symbol);
    } else if (const auto* r = std::get_if<Recover>(&item)) {
      hand(r->symbol);
    } else if (const auto* v = std::get_if<Reserve>(&item)) {
      if (const auto x = express_.find(v->symbol); x != express_.end()) {
        x->second.ceiling = std::max(x->second.ceiling, reserved_[v->symbol]);
        x->second.reserving = false;
      }
    }
  }
}

bool SignalStore::write(const std::vector<Stamped>& rows,
                        std::unordered_map<std::string, std::uint64_t> reserve,
                        const std::vector<const Keep*>& keeps) {
  // `reserve`: symbols whose reservation grows, to at least the value given.
  bool any = false;
  for (const auto& r : rows) {
    any = any || r.store;
    if (r.seq + kReserve / 2 > reserved_[r.symbol]) {
      auto& v = reserve[r.symbol];
      v = std::max(v, r.seq + kReserve);
    }
  }
  // Unstored prices below the reservation.
  if (!any && reserve.empty() && keeps.empty()) return true;
  if (degraded_ || !db_) return false;
  auto& db = *db_;
  std::uint64_t n = 0;
  next_commit_ = std::chrono::steady_clock::now() + opts_.commit_interval;
  write_began_ms_.store(steady_ms());
  try {
    db.conn.exec("BEGIN IMMEDIATE");
    for (const auto& r : rows) {
      if (!r.store) continue;
      db.insert.bind(1, r.symbol)
          .bind(2, sql::to_i64(r.seq))
          .bind(3, to_string(r.kind))
          .bind(4, r.ts_ms)
          .bind(5, *r.frame)
          .step();
      db.insert.reset();
      ++n;
    }
    for (const auto& [s, v] : reserve) {
      db.reserve.bind(1, s).bind(2, sql::to_i64(v)).step();
      db.reserve.reset();
    }
    for (const auto* k : keeps) {
      auto& q = k->body ? db.keep : db.forget;
      q.bind(1, k->subject).bind(2, k->kind).bind(3, k->id);
      if (k->body) q.bind(4, *k->body);
      q.step();
      q.reset();
    }
    db.conn.exec("COMMIT");
  } catch (const sql::Error& e) {
    write_began_ms_.store(0);
    sqlite3_exec(db.conn.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    go_degraded(sql::classify(e));
    return false;
  }
  write_began_ms_.store(0);
  for (const auto& [s, v] : reserve) reserved_[s] = std::max(reserved_[s], v);
  std::lock_guard lk(state_mu_);
  stats_.written += n;
  ++stats_.commits;
  return true;
}

SignalStore::Step SignalStore::answer(Recover& r) {
  const auto last = pub_[r.symbol];
  const auto floor = std::max(floor_[r.symbol], lost_[r.symbol]);
  std::vector<Entry> missed;
  bool ok = !degraded_ && db_ && r.since <= last && r.since >= floor;
  if (ok && r.since < last) {
    try {
      auto& q = db_->range;
      q.bind(1, r.symbol)
          .bind(2, sql::to_i64(r.since))
          .bind(3, sql::to_i64(last))
          .bind(4, sql::to_i64(r.max_count + 1));
      while (q.step()) {
        // A re-sent price is not replaceable in the client's queue: the next one re-sent
        // must not drop it (live prices still replace live ones).
        auto kind = room_kind(q.text(0));
        if (kind == MessageKind::PriceUpdate) kind = MessageKind::Reply;
        missed.push_back(Entry{kind, q.text(1)});
      }
      q.reset();
      if (missed.size() > r.max_count) ok = false;
    } catch (const sql::Error&) {
      db_->range.reset();
      ok = false;
    }
  }
  if (!ok) missed.clear();
  return [then = std::move(r.then), ok, missed = std::move(missed)]() mutable {
    then(ok, std::move(missed));
  };
}

bool SignalStore::retention() {
  if (degraded_ || !db_) return false;
  bool more = false;
  const std::int64_t cutoff =
      now_ms() - static_cast<std::int64_t>(opts_.retention_days * 86'400'000.0);
  std::uint64_t deleted = 0;
  write_began_ms_.store(steady_ms());
  try {
    auto& c = db_->conn;
    auto by_age = c.prepare("SELECT max(seq) FROM messages WHERE symbol = ? AND ts_ms < ?");
    auto by_rows =
        c.prepare("SELECT seq FROM messages WHERE symbol = ? ORDER BY seq DESC LIMIT 1 OFFSET ?");
    auto del = c.prepare("DELETE FROM messages WHERE symbol = ? AND seq <= ?");
    auto chunk = c.prepare(
        "SELECT seq FROM messages WHERE symbol = ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?");
    std::vector<std::string> symbols;
    auto all = c.prepare("SELECT DISTINCT symbol FROM symbols");
    while (all.step()) symbols.push_back(all.text(0));
    for (const auto& s : symbols) {
      std::uint64_t upto = 0;
      by_age.bind(1, s).bind(2, cutoff);
      if (by_age.step()) upto = sql::to_u64(by_age.i64(0));
      by_age.reset();
      by_rows.bind(1, s).bind(2, sql::to_i64(opts_.retention_rows));
      if (by_rows.step()) upto = std::max(upto, sql::to_u64(by_rows.i64(0)));
      by_rows.reset();
      if (upto == 0) continue;
      // At most kRetentionChunk rows per symbol and pass: broadcasts wait for this thread.
      chunk.bind(1, s).bind(2, sql::to_i64(upto)).bind(3, sql::to_i64(kRetentionChunk - 1));
      if (chunk.step() && sql::to_u64(chunk.i64(0)) < upto) {
        upto = sql::to_u64(chunk.i64(0));
        more = true;
      }
      chunk.reset();
      c.exec("BEGIN IMMEDIATE");
      try {
        del.bind(1, s).bind(2, sql::to_i64(upto)).step();
        del.reset();
        deleted += static_cast<std::uint64_t>(sqlite3_changes(c.handle()));
        db_->floor.bind(1, s).bind(2, sql::to_i64(upto)).step();
        db_->floor.reset();
        c.exec("COMMIT");
      } catch (...) {
        sqlite3_exec(c.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      floor_[s] = std::max(floor_[s], upto);
    }
  } catch (const sql::Error& e) {
    go_degraded(sql::classify(e));
  }
  write_began_ms_.store(0);
  std::lock_guard lk(state_mu_);
  stats_.retained_deleted += deleted;
  return more;
}

// --- figures ----------------------------------------------------------------------------------

std::uint64_t SignalStore::last_seq(const std::string& symbol) const {
  std::lock_guard lk(state_mu_);
  auto it = last_.find(symbol);
  return it == last_.end() ? 0 : it->second;
}

bool SignalStore::degraded() const { return stats().degraded; }

StoreStats SignalStore::stats() const {
  StoreStats s;
  {
    std::lock_guard lk(state_mu_);
    s = stats_;
  }
  if (const auto began = write_began_ms_.load(); began != 0) {
    const auto waited = steady_ms() - began;
    s.write_waiting_s = static_cast<double>(waited) / 1000.0;
    if (waited >= kStuckAfterMs && !s.degraded) {
      s.degraded = true;
      s.reason = "history store " + opts_.path + " is degraded: a write has waited " +
                 fmt_num(s.write_waiting_s) +
                 " s for the disk (stuck or very slow); room messages wait for it, prices are "
                 "shed";
    }
  }
  std::lock_guard lk(mu_);
  s.queued = queued_appends_;
  return s;
}

}  // namespace gs
