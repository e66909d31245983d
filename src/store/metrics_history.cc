#include "store/metrics_history.h"

#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace dw::store {

double latencyBucketUpperMs(int bucket) {
  if (bucket >= kLatencyBucketCount - 1) {
    return std::numeric_limits<double>::infinity();
  }
  // Log-spaced: bucket 0 ends at kLatencyMinMs, bucket count-2 at kLatencyMaxMs.
  const double steps = kLatencyBucketCount - 2;
  return kLatencyMinMs * std::pow(kLatencyMaxMs / kLatencyMinMs, bucket / steps);
}

double latencyBucketLowerMs(int bucket) {
  return bucket <= 0 ? 0.0 : latencyBucketUpperMs(bucket - 1);
}

int latencyBucketFor(double ms) {
  if (!(ms > kLatencyMinMs)) {
    return 0;
  }
  for (int bucket = 1; bucket < kLatencyBucketCount - 1; ++bucket) {
    if (ms <= latencyBucketUpperMs(bucket)) {
      return bucket;
    }
  }
  return kLatencyBucketCount - 1;
}

StatusOr<MetricsHistory> MetricsHistory::open(Database& db) {
  DW_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS metrics_history ("
              " at_ms INTEGER NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,"
              " requests INTEGER NOT NULL, errors INTEGER NOT NULL, qps REAL NOT NULL,"
              " p50 REAL NOT NULL, p95 REAL NOT NULL, p99 REAL NOT NULL, ttft_p99 REAL NOT NULL,"
              " accuracy REAL, mean_confidence REAL NOT NULL, abnormal_ratio REAL NOT NULL,"
              " gpu_utilization REAL NOT NULL, kv_cache_usage REAL NOT NULL,"
              " queue_length REAL NOT NULL, replicas REAL NOT NULL, kl_max REAL NOT NULL,"
              " label_psi REAL NOT NULL, PRIMARY KEY (at_ms, model, version));"
              "CREATE TABLE IF NOT EXISTS latency_buckets ("
              " at_ms INTEGER NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,"
              " bucket INTEGER NOT NULL, count INTEGER NOT NULL,"
              " PRIMARY KEY (at_ms, model, version, bucket))"));
  return MetricsHistory(db);
}

Status MetricsHistory::append(const std::vector<HistoryRow>& rows) {
  if (rows.empty()) {
    return okStatus();
  }
  // One transaction: a tick's rows are written together or not at all, and one fsync covers
  // them all instead of one per row.
  DW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  Status status = writeRows(rows);
  if (status.ok()) {
    status = db_->exec("COMMIT");
  }
  if (!status.ok()) {
    (void)db_->exec("ROLLBACK");
  }
  return status;
}

Status MetricsHistory::writeRows(const std::vector<HistoryRow>& rows) {
  for (const HistoryRow& row : rows) {
    {
      // The accuracy is bound twice: NULL when absent (Statement has no NULL binding).
      DW_ASSIGN_OR_RETURN(
          Statement s,
          db_->prepare("INSERT OR REPLACE INTO metrics_history (at_ms, model, version, requests,"
                       " errors, qps, p50, p95, p99, ttft_p99, accuracy, mean_confidence,"
                       " abnormal_ratio, gpu_utilization, kv_cache_usage, queue_length, replicas,"
                       " kl_max, label_psi) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                       " CASE WHEN ? = 0 THEN NULL ELSE ? END, ?, ?, ?, ?, ?, ?, ?, ?)"));
      s.bind(1, row.at_ms).bind(2, row.model).bind(3, row.version).bind(4, row.requests);
      s.bind(5, row.errors).bind(6, row.qps).bind(7, row.p50_ms).bind(8, row.p95_ms);
      s.bind(9, row.p99_ms).bind(10, row.ttft_p99_ms);
      s.bind(11, static_cast<int64_t>(row.accuracy.has_value() ? 1 : 0));
      s.bind(12, row.accuracy.value_or(0.0));
      s.bind(13, row.mean_confidence).bind(14, row.abnormal_ratio).bind(15, row.gpu_utilization);
      s.bind(16, row.kv_cache_usage).bind(17, row.queue_length).bind(18, row.replicas);
      s.bind(19, row.kl_max).bind(20, row.label_psi);
      DW_RETURN_IF_ERROR(s.run());
    }
    {
      DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("DELETE FROM latency_buckets WHERE at_ms = ?"
                                                    " AND model = ? AND version = ?"));
      s.bind(1, row.at_ms).bind(2, row.model).bind(3, row.version);
      DW_RETURN_IF_ERROR(s.run());
    }
    for (int bucket = 0; bucket < kLatencyBucketCount; ++bucket) {
      if (row.latency[bucket] == 0) {
        continue;
      }
      DW_ASSIGN_OR_RETURN(Statement s,
                          db_->prepare("INSERT INTO latency_buckets (at_ms, model, version,"
                                       " bucket, count) VALUES (?, ?, ?, ?, ?)"));
      s.bind(1, row.at_ms).bind(2, row.model).bind(3, row.version);
      s.bind(4, static_cast<int64_t>(bucket)).bind(5, row.latency[bucket]);
      DW_RETURN_IF_ERROR(s.run());
    }
  }
  return okStatus();
}

StatusOr<std::vector<HistoryRow>> MetricsHistory::range(int64_t from_ms, int64_t to_ms) {
  std::vector<HistoryRow> rows;
  std::map<std::tuple<int64_t, std::string, std::string>, size_t> index;
  {
    DW_ASSIGN_OR_RETURN(
        Statement s,
        db_->prepare("SELECT at_ms, model, version, requests, errors, qps, p50, p95, p99,"
                     " ttft_p99, accuracy IS NOT NULL, COALESCE(accuracy, 0), mean_confidence,"
                     " abnormal_ratio, gpu_utilization, kv_cache_usage, queue_length, replicas,"
                     " kl_max, label_psi FROM metrics_history WHERE at_ms >= ? AND at_ms < ?"
                     " ORDER BY at_ms, model, version"));
    s.bind(1, from_ms).bind(2, to_ms);
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool more, s.step());
      if (!more) {
        break;
      }
      HistoryRow row;
      row.at_ms = s.integer(0);
      row.model = s.text(1);
      row.version = s.text(2);
      row.requests = s.integer(3);
      row.errors = s.integer(4);
      row.qps = s.real(5);
      row.p50_ms = s.real(6);
      row.p95_ms = s.real(7);
      row.p99_ms = s.real(8);
      row.ttft_p99_ms = s.real(9);
      if (s.integer(10) != 0) {
        row.accuracy = s.real(11);
      }
      row.mean_confidence = s.real(12);
      row.abnormal_ratio = s.real(13);
      row.gpu_utilization = s.real(14);
      row.kv_cache_usage = s.real(15);
      row.queue_length = s.real(16);
      row.replicas = s.real(17);
      row.kl_max = s.real(18);
      row.label_psi = s.real(19);
      index.emplace(std::make_tuple(row.at_ms, row.model, row.version), rows.size());
      rows.push_back(std::move(row));
    }
  }
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("SELECT at_ms, model, version, bucket, count FROM"
                                                " latency_buckets WHERE at_ms >= ? AND at_ms < ?"));
  s.bind(1, from_ms).bind(2, to_ms);
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool more, s.step());
    if (!more) {
      break;
    }
    const int64_t bucket = s.integer(3);
    auto it = index.find(std::make_tuple(s.integer(0), s.text(1), s.text(2)));
    // Buckets without their minute row (or out of range) are ignored: append() writes both.
    if (it == index.end() || bucket < 0 || bucket >= kLatencyBucketCount) {
      continue;
    }
    rows[it->second].latency[static_cast<size_t>(bucket)] += s.integer(4);
  }
  return rows;
}

StatusOr<int64_t> MetricsHistory::prune(int64_t before_ms) {
  DW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  int64_t removed = 0;
  Status status = [&]() -> Status {
    {
      DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("DELETE FROM latency_buckets WHERE at_ms < ?"));
      s.bind(1, before_ms);
      DW_RETURN_IF_ERROR(s.run());
    }
    {
      DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("DELETE FROM metrics_history WHERE at_ms < ?"));
      s.bind(1, before_ms);
      DW_RETURN_IF_ERROR(s.run());
    }
    DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("SELECT changes()"));
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    removed = row ? s.integer(0) : 0;
    return okStatus();
  }();
  if (status.ok()) {
    status = db_->exec("COMMIT");
  }
  if (!status.ok()) {
    (void)db_->exec("ROLLBACK");
    return status;
  }
  return removed;
}

}  // namespace dw::store
