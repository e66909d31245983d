#include "store/outbox_store.h"

namespace dw::store {

StatusOr<OutboxStore> OutboxStore::open(Database& db) {
  DW_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS outbox ("
              " id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL, url TEXT NOT NULL,"
              " payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
              " next_attempt_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL)"));
  return OutboxStore(db);
}

StatusOr<int64_t> OutboxStore::enqueue(const std::string& sink, const std::string& url,
                                       const std::string& payload, int64_t now_ms) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("INSERT INTO outbox (sink, url, payload, next_attempt_ms,"
                                   " created_ms) VALUES (?, ?, ?, ?, ?)"));
  s.bind(1, sink).bind(2, url).bind(3, payload).bind(4, now_ms).bind(5, now_ms);
  DW_RETURN_IF_ERROR(s.run());
  DW_ASSIGN_OR_RETURN(Statement last, db_->prepare("SELECT last_insert_rowid()"));
  DW_ASSIGN_OR_RETURN(bool row, last.step());
  return row ? last.integer(0) : 0;
}

StatusOr<std::vector<OutboxRow>> OutboxStore::due(int64_t now_ms, int limit) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("SELECT id, sink, url, payload, attempts, next_attempt_ms"
                                   " FROM outbox WHERE next_attempt_ms <= ? ORDER BY id LIMIT ?"));
  s.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
  std::vector<OutboxRow> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return rows;
    }
    rows.push_back(
        OutboxRow{s.integer(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.integer(5)});
  }
}

Status OutboxStore::remove(int64_t id) {
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("DELETE FROM outbox WHERE id = ?"));
  s.bind(1, id);
  return s.run();
}

Status OutboxStore::retryLater(int64_t id, int64_t next_attempt_ms) {
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("UPDATE outbox SET attempts = attempts + 1,"
                                                " next_attempt_ms = ? WHERE id = ?"));
  s.bind(1, next_attempt_ms).bind(2, id);
  return s.run();
}

StatusOr<int64_t> OutboxStore::size() {
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("SELECT COUNT(*) FROM outbox"));
  DW_ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.integer(0) : 0;
}

StatusOr<int64_t> OutboxStore::trim(int64_t max_rows) {
  DW_ASSIGN_OR_RETURN(int64_t rows, size());
  if (rows <= max_rows) {
    return 0;
  }
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("DELETE FROM outbox WHERE id IN (SELECT id FROM"
                                                " outbox ORDER BY id LIMIT ?)"));
  s.bind(1, rows - max_rows);
  DW_RETURN_IF_ERROR(s.run());
  return rows - max_rows;
}

StatusOr<AlertEventStore> AlertEventStore::open(Database& db) {
  DW_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS alert_events ("
              " id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
              " rule TEXT NOT NULL, severity TEXT NOT NULL, labels TEXT NOT NULL, value REAL)"));
  return AlertEventStore(db);
}

Status AlertEventStore::append(const AlertEventRow& row) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("INSERT INTO alert_events (at_ms, kind, rule, severity,"
                                   " labels, value) VALUES (?, ?, ?, ?, ?, ?)"));
  s.bind(1, row.at_ms).bind(2, row.kind).bind(3, row.rule).bind(4, row.severity);
  s.bind(5, row.labels_json).bind(6, row.value);
  return s.run();
}

StatusOr<std::vector<AlertEventRow>> AlertEventStore::recent(int limit) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("SELECT at_ms, kind, rule, severity, labels, value FROM"
                                   " alert_events ORDER BY id DESC LIMIT ?"));
  s.bind(1, static_cast<int64_t>(limit));
  std::vector<AlertEventRow> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return rows;
    }
    rows.push_back(
        AlertEventRow{s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), s.real(5)});
  }
}

}  // namespace dw::store
