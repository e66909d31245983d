#include "store/database.h"

#include <sqlite3.h>

#include <filesystem>

namespace dw::store {
namespace {

Status sqliteError(sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return unavailable(std::move(message));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  bind_error_ = rc != SQLITE_OK ? rc : bind_error_;
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  bind_error_ = rc != SQLITE_OK ? rc : bind_error_;
  return *this;
}

Statement& Statement::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  bind_error_ = rc != SQLITE_OK ? rc : bind_error_;
  return *this;
}

StatusOr<bool> Statement::step() {
  if (bind_error_ != 0) {
    return internalError(std::string("binding a parameter failed: ") + sqlite3_errstr(bind_error_));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return sqliteError(db_, "a statement failed");
}

Status Statement::run() {
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, step());
    if (!row) {
      return okStatus();
    }
  }
}

int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  return data == nullptr ? std::string()
                         : std::string(reinterpret_cast<const char*>(data),
                                       static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

StatusOr<std::unique_ptr<Database>> Database::open(const std::string& path) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return unavailable("cannot create " + parent.string() + ": " + ec.message());
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status status = sqliteError(db, "cannot open " + path);
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<Database> database(new Database(db, path));
  sqlite3_busy_timeout(db, 5000);
  DW_RETURN_IF_ERROR(database->exec("PRAGMA journal_mode=WAL"));
  DW_RETURN_IF_ERROR(database->exec("PRAGMA synchronous=FULL"));
  return database;
}

Database::~Database() { sqlite3_close(db_); }

Status Database::exec(std::string_view sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return unavailable("SQLite: " + message);
  }
  return okStatus();
}

StatusOr<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return sqliteError(db_, "cannot prepare a statement");
  }
  return Statement(db_, stmt);
}

}  // namespace dw::store
