#pragma once
// A tiny blocking SQLite store for notes. Nothing in here knows about greenrpc or fibers: every
// method blocks its thread, like any legacy database driver. The server calls it only through
// greenrpc::run_blocking (server.cpp).
//
// Connection strategy: ONE sqlite3 connection guarded by a std::mutex.
//  - SQLite lets one writer in at a time anyway, so a single connection costs little concurrency
//    for a small service, and it avoids opening a connection (and parsing the schema) per query.
//  - The mutex is taken only on run_blocking's pool threads, never on a server worker thread, so
//    a query waiting for the mutex blocks a pool thread, not the fibers serving other clients.
//  - The connection is opened with SQLITE_OPEN_NOMUTEX: our mutex already makes sure one thread
//    at a time uses it, and keeps multi-statement sequences together.
// For read-heavy loads, open one connection per pool job (or keep a small pool of connections)
// in WAL mode instead, so that readers run in parallel.
#include <sqlite3.h>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "api.hpp"

class NotesDb {
 public:
  explicit NotesDb(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + path + ": " + message);
    }
    Statement(db_,
              "CREATE TABLE IF NOT EXISTS notes ("
              "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
              "  title TEXT NOT NULL,"
              "  body TEXT NOT NULL)")
        .run();
  }
  ~NotesDb() { sqlite3_close(db_); }
  NotesDb(const NotesDb&) = delete;
  NotesDb& operator=(const NotesDb&) = delete;

  Note create(const std::string& title, const std::string& body) {
    std::lock_guard lock(mutex_);
    Statement insert(db_, "INSERT INTO notes (title, body) VALUES (?1, ?2) RETURNING id, title, body");
    insert.bind(1, title).bind(2, body);
    if (!insert.step()) throw std::runtime_error("INSERT returned no row");
    Note note = insert.note();
    insert.run();  // runs the statement to completion: the insert commits
    return note;
  }

  std::optional<Note> get(std::int64_t id) {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, title, body FROM notes WHERE id = ?1");
    select.bind(1, id);
    if (!select.step()) return std::nullopt;
    return select.note();
  }

  std::vector<Note> list() {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, title, body FROM notes ORDER BY id");
    std::vector<Note> notes;
    while (select.step()) notes.push_back(select.note());
    return notes;
  }

  bool remove(std::int64_t id) {
    std::lock_guard lock(mutex_);
    Statement(db_, "DELETE FROM notes WHERE id = ?1").bind(1, id).run();
    return sqlite3_changes(db_) > 0;  // per connection: safe under the mutex
  }

 private:
  // A prepared statement, finalized on scope exit; every SQLite failure becomes an exception.
  class Statement {
   public:
    Statement(sqlite3* db, const char* sql) : db_(db) { check(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr)); }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value) {
      check(sqlite3_bind_int64(stmt_, index, value));
      return *this;
    }
    Statement& bind(int index, const std::string& value) {
      check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
      return *this;
    }
    // true: a row is ready; false: done.
    bool step() {
      int rc = sqlite3_step(stmt_);
      if (rc == SQLITE_ROW) return true;
      check(rc == SQLITE_DONE ? SQLITE_OK : rc);
      return false;
    }
    void run() {
      while (step()) {
      }
    }
    Note note() const { return Note{sqlite3_column_int64(stmt_, 0), text(1), text(2)}; }

   private:
    std::string text(int column) const {
      auto data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
      return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
    }
    void check(int rc) const {
      if (rc != SQLITE_OK) throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
  };

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};
