// Drift baselines in SQLite: one row per model and version, the baseline as JSON.
//
// Thread contract: the control thread.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/database.h"

namespace dw::store {

struct StoredBaseline {
  std::string model;
  std::string version;
  int64_t captured_at = 0;
  std::string json;
};

class BaselineStore {
 public:
  // Creates the table when needed.
  static StatusOr<BaselineStore> open(Database& db);

  Status save(const StoredBaseline& baseline);
  StatusOr<std::vector<StoredBaseline>> loadAll();

 private:
  explicit BaselineStore(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace dw::store
