#include "store/control_store.h"

namespace dw::store {

StatusOr<ControlStore> ControlStore::open(Database& db) {
  DW_RETURN_IF_ERROR(db.exec(
      "CREATE TABLE IF NOT EXISTS versions ("
      " model TEXT NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL,"
      " accuracy REAL NOT NULL DEFAULT -1, updated_ms INTEGER NOT NULL,"
      " PRIMARY KEY (model, version));"
      "CREATE TABLE IF NOT EXISTS version_history ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, model TEXT NOT NULL,"
      " version TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL,"
      " actor TEXT NOT NULL, reason TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS control_events ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
      " model TEXT NOT NULL, version TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL,"
      " details TEXT NOT NULL)"));
  return ControlStore(db);
}

Status ControlStore::setState(const std::string& model, const std::string& version,
                              const std::string& state, const std::string& actor,
                              const std::string& reason, int64_t now_ms, double accuracy) {
  std::string from = "new";
  {
    DW_ASSIGN_OR_RETURN(Statement s,
                        db_->prepare("SELECT state FROM versions WHERE model = ? AND version = ?"));
    s.bind(1, model).bind(2, version);
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (row) {
      from = s.text(0);
    }
  }
  // The state and its history row together or not at all: any failure rolls back, so the
  // connection never stays inside a half-done transaction.
  DW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  Status status = writeState(model, version, from, state, actor, reason, now_ms, accuracy);
  if (status.ok()) {
    status = db_->exec("COMMIT");
  }
  if (!status.ok()) {
    (void)db_->exec("ROLLBACK");
  }
  return status;
}

Status ControlStore::writeState(const std::string& model, const std::string& version,
                                const std::string& from, const std::string& state,
                                const std::string& actor, const std::string& reason, int64_t now_ms,
                                double accuracy) {
  {
    DW_ASSIGN_OR_RETURN(
        Statement s,
        db_->prepare("INSERT INTO versions (model, version, state, accuracy, updated_ms)"
                     " VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, version) DO UPDATE SET"
                     " state = excluded.state, updated_ms = excluded.updated_ms,"
                     " accuracy = CASE WHEN ? = -2 THEN versions.accuracy ELSE excluded.accuracy"
                     " END"));
    s.bind(1, model).bind(2, version).bind(3, state).bind(4, accuracy < -1.5 ? -1.0 : accuracy);
    s.bind(5, now_ms).bind(6, accuracy);
    DW_RETURN_IF_ERROR(s.run());
  }
  if (from == state) {
    return okStatus();
  }
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("INSERT INTO version_history (at_ms, model, version,"
                                   " from_state, to_state, actor, reason) VALUES"
                                   " (?, ?, ?, ?, ?, ?, ?)"));
  s.bind(1, now_ms).bind(2, model).bind(3, version).bind(4, from).bind(5, state);
  s.bind(6, actor).bind(7, reason);
  return s.run();
}

StatusOr<std::vector<VersionRow>> ControlStore::versions() {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("SELECT model, version, state, accuracy,"
                                   " updated_ms FROM versions ORDER BY model, version"));
  std::vector<VersionRow> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return rows;
    }
    rows.push_back(VersionRow{s.text(0), s.text(1), s.text(2), s.real(3), s.integer(4)});
  }
}

StatusOr<std::vector<VersionHistoryRow>> ControlStore::history(const std::string& model,
                                                               int limit) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("SELECT at_ms, model, version, from_state, to_state, actor,"
                                   " reason FROM version_history WHERE model = ? ORDER BY id DESC"
                                   " LIMIT ?"));
  s.bind(1, model).bind(2, static_cast<int64_t>(limit));
  std::vector<VersionHistoryRow> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return rows;
    }
    rows.push_back(VersionHistoryRow{s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4),
                                     s.text(5), s.text(6)});
  }
}

StatusOr<int64_t> ControlStore::addEvent(const ControlEventRow& event) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("INSERT INTO control_events (at_ms, kind, model, version,"
                                   " actor, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  s.bind(1, event.at_ms).bind(2, event.kind).bind(3, event.model).bind(4, event.version);
  s.bind(5, event.actor).bind(6, event.reason).bind(7, event.details_json);
  DW_RETURN_IF_ERROR(s.run());
  DW_ASSIGN_OR_RETURN(Statement last, db_->prepare("SELECT last_insert_rowid()"));
  DW_ASSIGN_OR_RETURN(bool row, last.step());
  return row ? last.integer(0) : 0;
}

Status ControlStore::updateEvent(int64_t id, const std::string& details_json) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("UPDATE control_events SET details = ? WHERE id = ?"));
  s.bind(1, details_json).bind(2, id);
  return s.run();
}

StatusOr<std::vector<ControlEventRow>> ControlStore::events(int limit) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("SELECT id, at_ms, kind, model, version, actor, reason,"
                                   " details FROM control_events ORDER BY id DESC LIMIT ?"));
  s.bind(1, static_cast<int64_t>(limit));
  std::vector<ControlEventRow> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return rows;
    }
    rows.push_back(ControlEventRow{s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4),
                                   s.text(5), s.text(6), s.text(7)});
  }
}

}  // namespace dw::store
