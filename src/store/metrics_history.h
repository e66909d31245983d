// The history of the gateway's metrics, for the weekly report (R6): metrics live in memory and in
// Prometheus, so the report keeps its own per-minute rollups in SQLite. One row per minute, model
// and version with the window statistics the control tick already has, and beside it the counts
// of a fixed log-spaced latency histogram so that the report can draw the distribution and
// compute percentiles from (noised) counts. docs/design/report.md has the design.
//
// Rollups are small (two versions for 35 days is ~100k rows) and prune() bounds them.
//
// Thread contract: like the Database it uses, one thread at a time (the writer or control
// thread; `deepwatch report` in its own process).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/database.h"

namespace dw::store {

// Latency buckets: bucket 0 is [0, 5 ms], bucket i in 1..19 is (bound(i-1), bound(i)] with the
// upper bounds log-spaced from 5 ms to 60 s (a ratio of ~1.64 between neighbours), and bucket 20
// holds everything above 60 s. Fixed, so that rollups of different minutes and versions add up.
inline constexpr int kLatencyBucketCount = 21;
inline constexpr double kLatencyMinMs = 5.0;
inline constexpr double kLatencyMaxMs = 60'000.0;
// Upper bound of `bucket` in ms; +infinity for the last one. Requires 0 <= bucket < count.
double latencyBucketUpperMs(int bucket);
// Lower bound of `bucket` in ms (0 for bucket 0).
double latencyBucketLowerMs(int bucket);
// The bucket a latency of `ms` falls in (negative and NaN go to bucket 0).
int latencyBucketFor(double ms);

using LatencyCounts = std::array<int64_t, kLatencyBucketCount>;

// One minute of one model version, built by the control tick from its per-version window stats.
struct HistoryRow {
  int64_t at_ms = 0;  // Start of the minute, UTC epoch ms.
  std::string model;
  std::string version;
  int64_t requests = 0;
  int64_t errors = 0;
  double qps = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double ttft_p99_ms = 0;
  std::optional<double> accuracy;  // Probe accuracy in [0, 1]; absent when no probe ran.
  double mean_confidence = 0;
  double abnormal_ratio = 0;
  double gpu_utilization = 0;  // [0, 1]
  double kv_cache_usage = 0;   // [0, 1]
  double queue_length = 0;
  double replicas = 0;
  double kl_max = 0;  // Largest input KL divergence over the features.
  double label_psi = 0;
  // Requests of this minute by latency bucket; all zero when the histogram is not known.
  LatencyCounts latency{};
};

class MetricsHistory {
 public:
  // Creates the tables when needed. Keeps a reference to `db`, which must outlive it.
  static StatusOr<MetricsHistory> open(Database& db);

  // Writes the rows and their non-zero latency buckets in one transaction: all or nothing. A row
  // for a (minute, model, version) already stored replaces it (the tick may run twice).
  Status append(const std::vector<HistoryRow>& rows);
  // Rows with from_ms <= at_ms < to_ms, ordered by time, model, version, latency included.
  StatusOr<std::vector<HistoryRow>> range(int64_t from_ms, int64_t to_ms);
  // Deletes rows older than `before_ms`; returns how many minute rows went.
  StatusOr<int64_t> prune(int64_t before_ms);

  // How long rollups are kept by default: five weeks, so a report can compare two full weeks.
  static constexpr int64_t kDefaultRetentionMs = 35LL * 24 * 3600 * 1000;

 private:
  explicit MetricsHistory(Database& db) : db_(&db) {}
  Status writeRows(const std::vector<HistoryRow>& rows);
  Database* db_;
};

}  // namespace dw::store
