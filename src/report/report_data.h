// The data of the weekly optimization report (R6): what collectReport() reads from the metrics
// history, the control events and the alert events for one period (and the period before it, for
// week-over-week deltas), with the released counts passed through differential privacy (R7).
// report_html.h renders it as HTML and JSON. docs/design/report.md has the design.
//
// Differential privacy: every count that describes requests or alert events (requests and errors
// per day, latency histogram buckets, anomaly events by type and severity, and the previous
// period's totals used by the deltas) gets discrete Laplace noise in one release, whose epsilon
// is spent from the privacy ledger under "report/<from-date>" before anything is returned. One
// request changes at most three of these counts (its day's requests, its day's errors, its
// latency bucket), and one alert event one, so the release uses L1 sensitivity 3. Percentiles
// and error rates are computed from the noised counts (post-processing). Gauges and rates
// (accuracy, utilisation, QPS, drift) are aggregates of the gateway's windows and are released
// as they are; the JSON says which numbers are noised.
//
// Thread contract: collectReport() uses the Database like any store: one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "security/dp_noise.h"
#include "store/database.h"
#include "store/metrics_history.h"

namespace dw::report {

// An A/B experiment and its verdict, provided by the caller (the experiments framework).
struct Experiment {
  std::string name;
  std::vector<std::string> arms;
  std::string decision;   // e.g. "running", "ship", "stop", "inconclusive"
  std::string winner;     // empty when none
  double score_diff = 0;  // Score(winner or B) - Score(A), R6's objective
  double ci_low = 0;      // 95% confidence interval of score_diff
  double ci_high = 0;
};

struct ReportOptions {
  // Epsilon of the release; spent from the ledger once per collectReport() call.
  double epsilon = 1.0;
  // Budget of a report's release when none was set in the ledger: three renders at epsilon 1.
  double budget = 3.0;
  int64_t now_ms = 0;  // When the spend is recorded.
  // Latency at which a replica's throughput still counts as capacity (R2.1 warning tier).
  double acceptable_p99_ms = 500;
  // Per-replica capacity; 0: measured from the history (max QPS per replica at acceptable p99).
  double target_qps_per_replica = 0;
  // Used when nothing was measured and no target is set (DESIGN.md: 500 QPS per replica).
  double default_qps_per_replica = 500;
  double headroom = 0.3;  // R9
  std::vector<Experiment> experiments;
  // Randomness of the noise; null: OpenSSL's CSPRNG. Tests inject a seeded one.
  security::RandomBits* bits = nullptr;
};

// Trend series of one model version on the report's time grid (ReportData::grid_ms); NaN where
// the version has no data in a step.
struct VersionSeries {
  std::string model;
  std::string version;
  std::vector<double> accuracy;
  std::vector<double> qps;
  std::vector<double> p99_ms;
  std::vector<double> ttft_p99_ms;
  std::vector<double> mean_confidence;
  std::vector<double> abnormal_ratio;
  std::vector<double> gpu_utilization;
  std::vector<double> kv_cache_usage;
  std::vector<double> queue_length;
  std::vector<double> replicas;
  std::vector<double> kl_max;
  std::vector<double> label_psi;
  // Per day of the period (ReportData::day_ms), noised, clamped at 0.
  std::vector<int64_t> requests_per_day;
  std::vector<int64_t> errors_per_day;
  // Latency histogram of the period (store::latencyBucketUpperMs), noised, clamped at 0, and
  // the percentiles computed from it (NaN when empty).
  store::LatencyCounts latency{};
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms_hist = 0;
  // Period summaries of the minute rows (NaN when none).
  double mean_accuracy = 0;
  double mean_gpu_utilization = 0;
  double max_gpu_utilization = 0;
  double mean_kv_cache_usage = 0;
  double max_kv_cache_usage = 0;
  double mean_queue_length = 0;
  double mean_replicas = 0;
  double max_kl = 0;
  double max_label_psi = 0;
  int64_t minutes = 0;              // Minute rows in the period.
  int64_t minutes_kl_warning = 0;   // Minutes with kl_max >= 0.3 (R2.2 warning tier).
  int64_t minutes_kl_critical = 0;  // Minutes with kl_max >= 0.5.
};

struct EventCount {
  std::string type;  // The alert rule.
  std::string severity;
  int64_t count = 0;  // Noised, clamped at 0.
};

struct ControlEvent {
  int64_t at_ms = 0;
  std::string kind;
  std::string category;  // rollout, rollback, other
  std::string model;
  std::string version;
  std::string actor;
  std::string reason;
};

// One week-over-week comparison; `change` is (current - previous) / previous, NaN when
// previous is 0 or either side is unknown.
struct Delta {
  std::string name;
  std::string unit;
  double current = 0;
  double previous = 0;
  double change = 0;
  bool noised = false;
};

struct CapacityRecommendation {
  std::string model;
  double peak_qps = 0;  // p99 of the per-minute QPS of the model (all versions).
  double per_replica_qps = 0;
  std::string per_replica_source;  // target, measured, default
  double headroom = 0.3;
  int64_t recommended_replicas = 0;
  double current_replicas = 0;  // Largest replica count seen in the period.
  std::string explanation;
};

struct PrivacySummary {
  std::string release;
  double epsilon = 0;  // As charged (rounded to micro-epsilon).
  int64_t sensitivity = 0;
  double spent_after = 0;
  double remaining_after = 0;
  std::vector<std::string> noised;
  std::vector<std::string> not_noised;
};

struct ReportData {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t previous_from_ms = 0;
  int64_t previous_to_ms = 0;
  int64_t generated_ms = 0;
  int64_t step_ms = 0;
  std::vector<int64_t> grid_ms;  // Start of each trend step.
  std::vector<int64_t> day_ms;   // Start of each day of the period.
  std::vector<VersionSeries> versions;
  store::LatencyCounts latency_all{};  // Sum of the versions' noised histograms.
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  std::vector<EventCount> events;
  int64_t events_total = 0;
  std::vector<ControlEvent> control_events;
  int64_t rollouts = 0;
  int64_t rollbacks = 0;
  std::vector<Experiment> experiments;
  std::vector<Delta> deltas;
  std::vector<CapacityRecommendation> capacity;
  PrivacySummary privacy;
};

// The L1 sensitivity of the release (see the header comment).
inline constexpr int64_t kReportSensitivity = 3;

// The release id of a report starting at `from_ms`: "report/YYYY-MM-DD" (UTC).
std::string reportRelease(int64_t from_ms);
// ISO-8601 UTC, "2026-03-02T00:00:00Z".
std::string isoTime(int64_t ms);

// The Monday 00:00 UTC at or before `ms`: weekly reports cover Monday to Monday.
int64_t mondayAtOrBefore(int64_t ms);

// Reads [from_ms, to_ms) and the period of the same length before it, noises the counts and
// spends options.epsilon on the ledger in `db`. Errors: invalidArgument for an empty or
// negative period, one above 92 days, or a bad epsilon; failedPrecondition when the release's
// budget is exhausted (nothing is returned then); store errors.
StatusOr<ReportData> collectReport(store::Database& db, int64_t from_ms, int64_t to_ms,
                                   const ReportOptions& options);

// Percentile q in (0, 1) of a latency histogram, interpolated geometrically inside the bucket;
// negative counts count as 0; NaN when the histogram is empty. The last bucket reports 60 s.
double histogramPercentile(const store::LatencyCounts& counts, double q);

// Writes a synthetic history of [from_ms, to_ms) for demos and tests, never for production: model
// "chat" with a stable v1 all along and a canary v2 deployed on the third day whose accuracy
// falls and latency and input drift rise until the controller rolls it back a day and a half
// later; diurnal load, probe accuracy every 5 minutes, latency histograms from a log-normal
// model, the deploy, canary and rollback control events, and alert events that fired.
// Deterministic for a given seed. `deepwatch report --seed-demo-data` calls it.
Status seedDemoData(store::Database& db, int64_t from_ms, int64_t to_ms, uint64_t seed);

// The capacity recommendation: ceil(peak_qps / per_replica_qps / (1 - headroom)), at least 1.
int64_t recommendedReplicas(double peak_qps, double per_replica_qps, double headroom);

}  // namespace dw::report
