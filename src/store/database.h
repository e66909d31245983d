// SQLite, the embedded default store (DESIGN.md, State): one file in WAL mode with
// synchronous=FULL, so a committed write survives a crash or power loss. A thin wrapper that
// returns Status instead of result codes and finalizes statements for the caller.
//
// Thread contract: a Database is used by one thread at a time (the control or writer thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace dw::store {

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  // Runs one step: true when a row is ready, false when done.
  StatusOr<bool> step();
  Status run();  // Steps to the end (for statements without rows).

  int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

class Database {
 public:
  // Opens (creating when needed) the file at `path`, its directory included.
  static StatusOr<std::unique_ptr<Database>> open(const std::string& path);
  ~Database();

  Status exec(std::string_view sql);
  StatusOr<Statement> prepare(std::string_view sql);
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

}  // namespace dw::store
