// The controller's state in SQLite: the version registry (state of every model version, with
// its history) and the events of the maintenance actions (R5: reason, timings, metrics before
// and after), so that a restart knows which version is stable and what was done.
//
// Thread contract: the control thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/database.h"

namespace dw::store {

struct VersionRow {
  std::string model;
  std::string version;
  std::string state;     // loading, ready, canary, stable, standby, retired, failed
  double accuracy = -1;  // Probe accuracy when it last became stable (-1: unknown).
  int64_t updated_ms = 0;
};

struct VersionHistoryRow {
  int64_t at_ms = 0;
  std::string model;
  std::string version;
  std::string from_state;
  std::string to_state;
  std::string actor;
  std::string reason;
};

struct ControlEventRow {
  int64_t id = 0;
  int64_t at_ms = 0;
  std::string kind;  // l1_restart, l2_takeover, l3_rollback, deploy, canary_step, promote...
  std::string model;
  std::string version;
  std::string actor;
  std::string reason;
  std::string details_json;
};

class ControlStore {
 public:
  static StatusOr<ControlStore> open(Database& db);

  Status setState(const std::string& model, const std::string& version, const std::string& state,
                  const std::string& actor, const std::string& reason, int64_t now_ms,
                  double accuracy = -2);  // -2: keep the stored accuracy.
  StatusOr<std::vector<VersionRow>> versions();
  StatusOr<std::vector<VersionHistoryRow>> history(const std::string& model, int limit);

  StatusOr<int64_t> addEvent(const ControlEventRow& event);
  Status updateEvent(int64_t id, const std::string& details_json);
  StatusOr<std::vector<ControlEventRow>> events(int limit);

 private:
  explicit ControlStore(Database& db) : db_(&db) {}
  // The writes of setState(), inside its transaction.
  Status writeState(const std::string& model, const std::string& version, const std::string& from,
                    const std::string& state, const std::string& actor, const std::string& reason,
                    int64_t now_ms, double accuracy);
  Database* db_;
};

}  // namespace dw::store
