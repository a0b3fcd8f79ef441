#include "sqlite.hpp"

namespace gs::sql {

std::string describe(sqlite3* db, int rc) {
  std::string s = sqlite3_errstr(rc);
  if (db != nullptr) {
    const char* m = sqlite3_errmsg(db);
    if (m != nullptr && s != m) s.append(": ").append(m);
  }
  return s;
}

namespace {
[[noreturn]] void fail(sqlite3* db, int rc) { throw Error(rc, describe(db, rc)); }
}  // namespace

Stmt::Stmt(sqlite3* db, std::string_view text) : db_(db) {
  const int rc = sqlite3_prepare_v3(db, text.data(), static_cast<int>(text.size()),
                                    SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc);
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  const int rc = sqlite3_bind_int64(s_, i, v);
  if (rc != SQLITE_OK) fail(db_, rc);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  const int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc);
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const int ext = sqlite3_extended_errcode(db_);
  std::string what = describe(db_, ext);
  sqlite3_reset(s_);
  throw Error(ext, what);
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::int64_t Stmt::i64(int col) const { return sqlite3_column_int64(s_, col); }

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(s_, col);
  const int n = sqlite3_column_bytes(s_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

Conn::Conn(const std::string& path, int flags) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string what = "cannot open " + path + ": " + describe(db_, rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Error(rc, what);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Conn::~Conn() { sqlite3_close_v2(db_); }

void Conn::exec(std::string_view text) {
  const std::string s(text);
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db_, sqlite3_extended_errcode(db_));
}

// What kind of trouble an SQLite error means, for the operator.
std::string classify(const Error& e) {
  const int primary = e.code() & 0xff;
  std::string kind;
  switch (primary) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      kind = "the file is corrupt or not an SQLite database";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      kind = "the file is locked by another process";
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_AUTH:
      kind = "the file cannot be written (read-only or no permission)";
      break;
    case SQLITE_FULL:
      kind = "the disk is full";
      break;
    case SQLITE_IOERR:
      kind = "I/O error";
      break;
    default:
      kind = "SQLite error";
  }
  return kind + " (" + e.what() + ")";
}

}  // namespace gs::sql
