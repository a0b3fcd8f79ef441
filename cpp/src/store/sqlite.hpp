// A thin RAII layer over the SQLite C API for the signal store: a connection, prepared
// statements, and errors that carry SQLite's code and message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gs::sql {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  [[nodiscard]] int code() const noexcept { return code_; }

 private:
  int code_;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view text);
  ~Stmt();
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::string_view v);  // copied by SQLite
  // One step: true while there is a row to read.
  bool step();
  void reset();  // and clears the bindings
  [[nodiscard]] std::int64_t i64(int col) const;
  [[nodiscard]] std::string text(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

class Conn {
 public:
  // SQLITE_OPEN_* flags; throws sql::Error naming the path.
  Conn(const std::string& path, int flags);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void exec(std::string_view text);  // statements without results
  [[nodiscard]] Stmt prepare(std::string_view text) { return Stmt(db_, text); }
  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// "disk I/O error (SQLITE_IOERR_WRITE): ..." style text for a failed call.
std::string describe(sqlite3* db, int rc);

// What kind of trouble an SQLite error means, for the operator: "the disk is full (...)".
std::string classify(const Error& e);

// Seqs are unsigned; SQLite's integers are signed.
inline std::int64_t to_i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
inline std::uint64_t to_u64(std::int64_t v) { return v < 0 ? 0 : static_cast<std::uint64_t>(v); }

}  // namespace gs::sql
