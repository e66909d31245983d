// The routing the admin API and the controller set (each version's track and weight), in
// SQLite, so that an acknowledged weight change, rollback or promotion survives a crash or a
// restart (R9: RPO = 0 for control-plane state). The configuration file gives the models and
// versions; what is stored here overrides their track and weight at start.
//
// Thread contract: the control thread.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/database.h"

namespace dw::store {

struct RouteRow {
  std::string model;
  std::string version;
  std::string track;  // stable, canary, standby
  double weight = 0;
  // What the configuration file said when this was stored: a file edited since wins.
  std::string file_track;
  double file_weight = 0;
  bool operator==(const RouteRow&) const = default;
};

class RouteStore {
 public:
  // Creates the table when needed.
  static StatusOr<RouteStore> open(Database& db);

  // Replaces the stored routing with `rows` in one transaction: all of it is durable when this
  // returns OK (synchronous=FULL), none of it when it fails (a full disk, an I/O error).
  Status replace(const std::vector<RouteRow>& rows);
  StatusOr<std::vector<RouteRow>> load();

 private:
  explicit RouteStore(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace dw::store
