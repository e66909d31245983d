#include "store/baseline_store.h"

namespace dw::store {

StatusOr<BaselineStore> BaselineStore::open(Database& db) {
  DW_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS baselines ("
              " model TEXT NOT NULL, version TEXT NOT NULL, captured_at INTEGER NOT NULL,"
              " json TEXT NOT NULL, PRIMARY KEY (model, version))"));
  return BaselineStore(db);
}

Status BaselineStore::save(const StoredBaseline& baseline) {
  DW_ASSIGN_OR_RETURN(
      Statement statement,
      db_->prepare("INSERT INTO baselines (model, version, captured_at, json)"
                   " VALUES (?, ?, ?, ?) ON CONFLICT (model, version) DO UPDATE"
                   " SET captured_at = excluded.captured_at, json = excluded.json"));
  statement.bind(1, baseline.model).bind(2, baseline.version).bind(3, baseline.captured_at);
  statement.bind(4, baseline.json);
  return statement.run();
}

StatusOr<std::vector<StoredBaseline>> BaselineStore::loadAll() {
  DW_ASSIGN_OR_RETURN(
      Statement statement,
      db_->prepare("SELECT model, version, captured_at, json FROM baselines ORDER BY model"));
  std::vector<StoredBaseline> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, statement.step());
    if (!row) {
      return out;
    }
    out.push_back(StoredBaseline{statement.text(0), statement.text(1), statement.integer(2),
                                 statement.text(3)});
  }
}

}  // namespace dw::store
