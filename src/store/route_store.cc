#include "store/route_store.h"

namespace dw::store {

StatusOr<RouteStore> RouteStore::open(Database& db) {
  DW_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS routes ("
              " model TEXT NOT NULL, version TEXT NOT NULL, track TEXT NOT NULL,"
              " weight REAL NOT NULL, file_track TEXT NOT NULL, file_weight REAL NOT NULL,"
              " PRIMARY KEY (model, version))"));
  return RouteStore(db);
}

Status RouteStore::replace(const std::vector<RouteRow>& rows) {
  DW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  Status status = db_->exec("DELETE FROM routes");
  for (const RouteRow& row : rows) {
    if (!status.ok()) {
      break;
    }
    auto insert = db_->prepare(
        "INSERT INTO routes (model, version, track, weight, file_track, file_weight)"
        " VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) {
      status = insert.status();
      break;
    }
    insert->bind(1, row.model)
        .bind(2, row.version)
        .bind(3, row.track)
        .bind(4, row.weight)
        .bind(5, row.file_track)
        .bind(6, row.file_weight);
    status = insert->run();
  }
  if (status.ok()) {
    status = db_->exec("COMMIT");
  }
  if (!status.ok()) {
    // Never leave the connection inside a half-done transaction.
    (void)db_->exec("ROLLBACK");
  }
  return status;
}

StatusOr<std::vector<RouteRow>> RouteStore::load() {
  DW_ASSIGN_OR_RETURN(
      Statement s,
      db_->prepare("SELECT model, version, track, weight, file_track, file_weight FROM routes"));
  std::vector<RouteRow> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      break;
    }
    rows.push_back({s.text(0), s.text(1), s.text(2), s.real(3), s.text(4), s.real(5)});
  }
  return rows;
}

}  // namespace dw::store
