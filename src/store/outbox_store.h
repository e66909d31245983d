// The notification outbox: what still has to reach an alert sink, persisted in SQLite so that a
// sink that is down, or a gateway restart, loses nothing (R9, issue 5). Rows leave only when the
// sink accepted them.
//
// Thread contract: the control thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/database.h"

namespace dw::store {

struct OutboxRow {
  int64_t id = 0;
  std::string sink;  // The sink's name.
  std::string url;
  std::string payload;
  int64_t attempts = 0;
  int64_t next_attempt_ms = 0;
};

class OutboxStore {
 public:
  static StatusOr<OutboxStore> open(Database& db);

  StatusOr<int64_t> enqueue(const std::string& sink, const std::string& url,
                            const std::string& payload, int64_t now_ms);
  // Rows due at `now_ms`, oldest first.
  StatusOr<std::vector<OutboxRow>> due(int64_t now_ms, int limit);
  Status remove(int64_t id);
  Status retryLater(int64_t id, int64_t next_attempt_ms);
  StatusOr<int64_t> size();
  // Keeps the newest `max_rows`; returns how many were dropped.
  StatusOr<int64_t> trim(int64_t max_rows);

 private:
  explicit OutboxStore(Database& db) : db_(&db) {}
  Database* db_;
};

struct AlertEventRow {
  int64_t at_ms = 0;
  std::string kind;  // fired, escalated, deescalated, resolved, notified
  std::string rule;
  std::string severity;
  std::string labels_json;
  double value = 0;
};

// The history of alert events.
class AlertEventStore {
 public:
  static StatusOr<AlertEventStore> open(Database& db);
  Status append(const AlertEventRow& row);
  StatusOr<std::vector<AlertEventRow>> recent(int limit);

 private:
  explicit AlertEventStore(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace dw::store
