#include "report/report_data.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <span>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "base/random.h"
#include "security/privacy_ledger.h"
#include "store/control_store.h"
#include "store/outbox_store.h"

namespace dw::report {
namespace {

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kMaxPeriodMs = 92 * kDayMs;
constexpr size_t kMaxGridPoints = 400;
constexpr double kKlWarning = 0.3;
constexpr double kKlCritical = 0.5;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Mean of the values added; NaN when none.
struct Mean {
  double sum = 0;
  int64_t n = 0;
  void add(double v) {
    sum += v;
    ++n;
  }
  double value() const { return n == 0 ? kNaN : sum / static_cast<double>(n); }
};

struct Max {
  double max = -std::numeric_limits<double>::infinity();
  void add(double v) { max = std::max(max, v); }
  double value() const { return std::isinf(max) ? kNaN : max; }
};

// Accumulators of one version over the period, before noise.
struct VersionAccum {
  std::string model;
  std::string version;
  std::vector<Mean> accuracy, qps, p99, ttft, confidence, abnormal, gpu, kv, queue, replicas, kl,
      psi;
  std::vector<int64_t> requests_per_day, errors_per_day;
  store::LatencyCounts latency{};
  Mean mean_accuracy, mean_gpu, mean_kv, mean_queue, mean_replicas;
  Max max_gpu, max_kv, max_kl, max_psi;
  int64_t minutes = 0, kl_warning = 0, kl_critical = 0;
};

std::string controlCategory(const std::string& kind) {
  if (kind.find("rollback") != std::string::npos) {
    return "rollback";
  }
  if (kind == "deploy" || kind == "promote" || kind == "canary_step" || kind == "canary_start") {
    return "rollout";
  }
  return "other";
}

std::vector<double> means(const std::vector<Mean>& values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (const Mean& m : values) {
    out.push_back(m.value());
  }
  return out;
}

// Nearest-rank percentile of `values` (sorted here); 0 when empty.
double nearestRank(std::vector<double> values, double q) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

double relativeChange(double current, double previous) {
  if (std::isnan(current) || std::isnan(previous) || previous == 0) {
    return kNaN;
  }
  return (current - previous) / previous;
}

// The alert events that fired in [from, to): anomaly events, by rule and severity. Escalations
// and resolutions of the same alert are not counted again. Read with a range query on the table
// that store::AlertEventStore owns (opened first, so the table exists on a fresh database).
StatusOr<std::map<std::pair<std::string, std::string>, int64_t>> firedEvents(store::Database& db,
                                                                             int64_t from_ms,
                                                                             int64_t to_ms) {
  DW_ASSIGN_OR_RETURN(store::Statement s,
                      db.prepare("SELECT rule, severity, COUNT(*) FROM alert_events WHERE"
                                 " kind = 'fired' AND at_ms >= ? AND at_ms < ?"
                                 " GROUP BY rule, severity ORDER BY rule, severity"));
  s.bind(1, from_ms).bind(2, to_ms);
  std::map<std::pair<std::string, std::string>, int64_t> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return out;
    }
    out[{s.text(0), s.text(1)}] = s.integer(2);
  }
}

StatusOr<std::vector<ControlEvent>> controlEvents(store::Database& db, int64_t from_ms,
                                                  int64_t to_ms) {
  DW_ASSIGN_OR_RETURN(store::Statement s,
                      db.prepare("SELECT at_ms, kind, model, version, actor, reason FROM"
                                 " control_events WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms,"
                                 " id"));
  s.bind(1, from_ms).bind(2, to_ms);
  std::vector<ControlEvent> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return out;
    }
    ControlEvent event;
    event.at_ms = s.integer(0);
    event.kind = s.text(1);
    event.category = controlCategory(event.kind);
    event.model = s.text(2);
    event.version = s.text(3);
    event.actor = s.text(4);
    event.reason = s.text(5);
    out.push_back(std::move(event));
  }
}

// Per model and minute: QPS and replicas summed over versions, the worst p99.
struct ModelMinute {
  double qps = 0;
  double replicas = 0;
  double p99_ms = 0;
};

CapacityRecommendation capacityFor(const std::string& model,
                                   const std::map<int64_t, ModelMinute>& minutes,
                                   const ReportOptions& options) {
  CapacityRecommendation c;
  c.model = model;
  c.headroom = options.headroom;
  std::vector<double> qps;
  double measured = 0;
  for (const auto& [at, m] : minutes) {
    qps.push_back(m.qps);
    c.current_replicas = std::max(c.current_replicas, m.replicas);
    if (m.replicas > 0 && m.p99_ms <= options.acceptable_p99_ms) {
      measured = std::max(measured, m.qps / m.replicas);
    }
  }
  c.peak_qps = nearestRank(std::move(qps), 0.99);
  if (options.target_qps_per_replica > 0) {
    c.per_replica_qps = options.target_qps_per_replica;
    c.per_replica_source = "target";
  } else if (measured > 0) {
    c.per_replica_qps = measured;
    c.per_replica_source = "measured";
  } else {
    c.per_replica_qps = options.default_qps_per_replica;
    c.per_replica_source = "default";
  }
  c.recommended_replicas = recommendedReplicas(c.peak_qps, c.per_replica_qps, c.headroom);
  const std::string source =
      c.per_replica_source == "target"
          ? "the configured target"
          : (c.per_replica_source == "measured"
                 ? fmt::format("the largest QPS per replica observed with p99 <= {:.0f} ms",
                               options.acceptable_p99_ms)
                 : "the default (nothing measured at acceptable latency)");
  c.explanation = fmt::format(
      "replicas = ceil(peak_qps / per_replica_qps / (1 - headroom)) = ceil({:.2f} / {:.2f} / "
      "(1 - {:.2f})) = {}; peak_qps is the p99 of the per-minute QPS over the period, "
      "per_replica_qps is {}",
      c.peak_qps, c.per_replica_qps, c.headroom, c.recommended_replicas, source);
  return c;
}

int64_t clampCount(int64_t v) { return std::max<int64_t>(v, 0); }

}  // namespace

std::string isoTime(int64_t ms) {
  const auto seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string reportRelease(int64_t from_ms) { return "report/" + isoTime(from_ms).substr(0, 10); }

double histogramPercentile(const store::LatencyCounts& counts, double q) {
  double total = 0;
  for (int64_t c : counts) {
    total += static_cast<double>(std::max<int64_t>(c, 0));
  }
  if (total <= 0) {
    return kNaN;
  }
  const double target = q * total;
  double cumulative = 0;
  for (int b = 0; b < store::kLatencyBucketCount; ++b) {
    const double c = static_cast<double>(std::max<int64_t>(counts[static_cast<size_t>(b)], 0));
    if (c > 0 && cumulative + c >= target) {
      if (b == store::kLatencyBucketCount - 1) {
        return store::kLatencyMaxMs;
      }
      const double fraction = std::clamp((target - cumulative) / c, 0.0, 1.0);
      const double upper = store::latencyBucketUpperMs(b);
      if (b == 0) {
        return upper * fraction;
      }
      // Geometric inside a log-spaced bucket.
      const double lower = store::latencyBucketLowerMs(b);
      return lower * std::pow(upper / lower, fraction);
    }
    cumulative += c;
  }
  return store::kLatencyMaxMs;
}

int64_t recommendedReplicas(double peak_qps, double per_replica_qps, double headroom) {
  if (!(per_replica_qps > 0) || !(headroom < 1) || !(peak_qps > 0)) {
    return 1;
  }
  const double replicas = peak_qps / per_replica_qps / (1 - std::max(headroom, 0.0));
  // A tiny tolerance so that an exact multiple (e.g. 700 / 100 / 0.7) is not rounded up by the
  // floating-point error of the division.
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(replicas - 1e-9)));
}

StatusOr<ReportData> collectReport(store::Database& db, int64_t from_ms, int64_t to_ms,
                                   const ReportOptions& options) {
  if (to_ms <= from_ms) {
    return invalidArgument("the report period is empty: --to must be after --from");
  }
  if (to_ms - from_ms > kMaxPeriodMs) {
    return invalidArgument("the report period is longer than 92 days");
  }
  ReportData data;
  data.from_ms = from_ms;
  data.to_ms = to_ms;
  data.previous_from_ms = from_ms - (to_ms - from_ms);
  data.previous_to_ms = from_ms;
  data.generated_ms = options.now_ms;
  data.experiments = options.experiments;
  const int64_t period = to_ms - from_ms;
  const int64_t step_hours =
      std::max<int64_t>(1, (period + kHourMs * static_cast<int64_t>(kMaxGridPoints) - 1) /
                               (kHourMs * static_cast<int64_t>(kMaxGridPoints)));
  data.step_ms = step_hours * kHourMs;
  for (int64_t t = from_ms; t < to_ms; t += data.step_ms) {
    data.grid_ms.push_back(t);
  }
  for (int64_t t = from_ms; t < to_ms; t += kDayMs) {
    data.day_ms.push_back(t);
  }
  const size_t steps = data.grid_ms.size();
  const size_t days = data.day_ms.size();

  // Open the stores the report reads, so their tables exist on a fresh database.
  DW_ASSIGN_OR_RETURN(store::MetricsHistory history, store::MetricsHistory::open(db));
  DW_RETURN_IF_ERROR(store::ControlStore::open(db).status());
  DW_RETURN_IF_ERROR(store::AlertEventStore::open(db).status());

  // The current period, per version.
  DW_ASSIGN_OR_RETURN(std::vector<store::HistoryRow> rows, history.range(from_ms, to_ms));
  std::map<std::pair<std::string, std::string>, VersionAccum> versions;
  std::map<std::string, std::map<int64_t, ModelMinute>> model_minutes;
  for (const store::HistoryRow& row : rows) {
    VersionAccum& v = versions[{row.model, row.version}];
    if (v.accuracy.empty()) {
      v.model = row.model;
      v.version = row.version;
      for (auto* series : {&v.accuracy, &v.qps, &v.p99, &v.ttft, &v.confidence, &v.abnormal, &v.gpu,
                           &v.kv, &v.queue, &v.replicas, &v.kl, &v.psi}) {
        series->resize(steps);
      }
      v.requests_per_day.resize(days);
      v.errors_per_day.resize(days);
    }
    const auto step = static_cast<size_t>((row.at_ms - from_ms) / data.step_ms);
    const auto day = static_cast<size_t>((row.at_ms - from_ms) / kDayMs);
    if (row.accuracy) {
      v.accuracy[step].add(*row.accuracy);
      v.mean_accuracy.add(*row.accuracy);
    }
    v.qps[step].add(row.qps);
    v.p99[step].add(row.p99_ms);
    v.ttft[step].add(row.ttft_p99_ms);
    v.confidence[step].add(row.mean_confidence);
    v.abnormal[step].add(row.abnormal_ratio);
    v.gpu[step].add(row.gpu_utilization);
    v.kv[step].add(row.kv_cache_usage);
    v.queue[step].add(row.queue_length);
    v.replicas[step].add(row.replicas);
    v.kl[step].add(row.kl_max);
    v.psi[step].add(row.label_psi);
    v.requests_per_day[day] += row.requests;
    v.errors_per_day[day] += row.errors;
    for (size_t b = 0; b < v.latency.size(); ++b) {
      v.latency[b] += row.latency[b];
    }
    v.mean_gpu.add(row.gpu_utilization);
    v.max_gpu.add(row.gpu_utilization);
    v.mean_kv.add(row.kv_cache_usage);
    v.max_kv.add(row.kv_cache_usage);
    v.mean_queue.add(row.queue_length);
    v.mean_replicas.add(row.replicas);
    v.max_kl.add(row.kl_max);
    v.max_psi.add(row.label_psi);
    ++v.minutes;
    v.kl_warning += row.kl_max >= kKlWarning ? 1 : 0;
    v.kl_critical += row.kl_max >= kKlCritical ? 1 : 0;
    ModelMinute& m = model_minutes[row.model][row.at_ms];
    m.qps += row.qps;
    m.replicas += row.replicas;
    m.p99_ms = std::max(m.p99_ms, row.p99_ms);
  }

  // The previous period: totals only.
  DW_ASSIGN_OR_RETURN(std::vector<store::HistoryRow> previous_rows,
                      history.range(data.previous_from_ms, data.previous_to_ms));
  int64_t previous_requests = 0;
  int64_t previous_errors = 0;
  store::LatencyCounts previous_latency{};
  Mean previous_accuracy, previous_gpu, current_accuracy, current_gpu;
  std::map<int64_t, double> previous_qps_by_minute;
  for (const store::HistoryRow& row : previous_rows) {
    previous_requests += row.requests;
    previous_errors += row.errors;
    for (size_t b = 0; b < previous_latency.size(); ++b) {
      previous_latency[b] += row.latency[b];
    }
    if (row.accuracy) {
      previous_accuracy.add(*row.accuracy);
    }
    previous_gpu.add(row.gpu_utilization);
    previous_qps_by_minute[row.at_ms] += row.qps;
  }
  std::map<int64_t, double> current_qps_by_minute;
  for (const store::HistoryRow& row : rows) {
    if (row.accuracy) {
      current_accuracy.add(*row.accuracy);
    }
    current_gpu.add(row.gpu_utilization);
    current_qps_by_minute[row.at_ms] += row.qps;
  }

  DW_ASSIGN_OR_RETURN(auto fired, firedEvents(db, from_ms, to_ms));
  DW_ASSIGN_OR_RETURN(auto previous_fired,
                      firedEvents(db, data.previous_from_ms, data.previous_to_ms));
  int64_t previous_events = 0;
  for (const auto& [key, count] : previous_fired) {
    previous_events += count;
  }
  DW_ASSIGN_OR_RETURN(data.control_events, controlEvents(db, from_ms, to_ms));
  for (const ControlEvent& event : data.control_events) {
    data.rollouts += event.category == "rollout" ? 1 : 0;
    data.rollbacks += event.category == "rollback" ? 1 : 0;
  }

  // Every released count in one vector, in this order: per version (requests per day, errors
  // per day, latency buckets), the events by type and severity, then the previous period's
  // requests, errors, events and latency buckets.
  std::vector<int64_t> exact;
  for (const auto& [key, v] : versions) {
    exact.insert(exact.end(), v.requests_per_day.begin(), v.requests_per_day.end());
    exact.insert(exact.end(), v.errors_per_day.begin(), v.errors_per_day.end());
    exact.insert(exact.end(), v.latency.begin(), v.latency.end());
  }
  for (const auto& [key, count] : fired) {
    exact.push_back(count);
  }
  exact.push_back(previous_requests);
  exact.push_back(previous_errors);
  exact.push_back(previous_events);
  exact.insert(exact.end(), previous_latency.begin(), previous_latency.end());

  // Draw first, then spend, then release: a refused spend releases nothing (as
  // security::releaseCounts, with the randomness injectable).
  DW_ASSIGN_OR_RETURN(const int64_t micros,
                      security::PrivacyLedger::epsilonMicros(options.epsilon));
  const double epsilon =
      static_cast<double>(micros) / static_cast<double>(security::kMicrosPerEpsilon);
  security::CryptoRandomBits crypto_bits;
  security::RandomBits& bits = options.bits != nullptr ? *options.bits : crypto_bits;
  DW_ASSIGN_OR_RETURN(std::vector<int64_t> noisy,
                      security::addDiscreteLaplace(exact, epsilon, kReportSensitivity, bits));
  DW_ASSIGN_OR_RETURN(security::PrivacyLedger ledger,
                      security::PrivacyLedger::open(db, options.budget));
  const std::string release = reportRelease(from_ms);
  Status spent =
      ledger.spend(release, epsilon, "weekly report " + isoTime(from_ms) + " to " + isoTime(to_ms),
                   options.now_ms);
  if (spent.code() == StatusCode::kFailedPrecondition) {
    return failedPrecondition("the privacy budget of " + release +
                              " is exhausted, so the report is not rendered (" + spent.message() +
                              "); raise the budget or wait for the next period");
  }
  DW_RETURN_IF_ERROR(spent);

  size_t at = 0;
  auto take = [&](size_t n) {
    std::span<const int64_t> part(noisy.data() + at, n);
    at += n;
    return part;
  };
  for (auto& [key, v] : versions) {
    VersionSeries s;
    s.model = v.model;
    s.version = v.version;
    s.accuracy = means(v.accuracy);
    s.qps = means(v.qps);
    s.p99_ms = means(v.p99);
    s.ttft_p99_ms = means(v.ttft);
    s.mean_confidence = means(v.confidence);
    s.abnormal_ratio = means(v.abnormal);
    s.gpu_utilization = means(v.gpu);
    s.kv_cache_usage = means(v.kv);
    s.queue_length = means(v.queue);
    s.replicas = means(v.replicas);
    s.kl_max = means(v.kl);
    s.label_psi = means(v.psi);
    for (int64_t c : take(days)) {
      s.requests_per_day.push_back(clampCount(c));
    }
    for (int64_t c : take(days)) {
      s.errors_per_day.push_back(clampCount(c));
    }
    auto latency = take(store::kLatencyBucketCount);
    for (size_t b = 0; b < s.latency.size(); ++b) {
      s.latency[b] = clampCount(latency[b]);
      data.latency_all[b] += s.latency[b];
    }
    s.p50_ms = histogramPercentile(s.latency, 0.50);
    s.p95_ms = histogramPercentile(s.latency, 0.95);
    s.p99_ms_hist = histogramPercentile(s.latency, 0.99);
    s.mean_accuracy = v.mean_accuracy.value();
    s.mean_gpu_utilization = v.mean_gpu.value();
    s.max_gpu_utilization = v.max_gpu.value();
    s.mean_kv_cache_usage = v.mean_kv.value();
    s.max_kv_cache_usage = v.max_kv.value();
    s.mean_queue_length = v.mean_queue.value();
    s.mean_replicas = v.mean_replicas.value();
    s.max_kl = v.max_kl.value();
    s.max_label_psi = v.max_psi.value();
    s.minutes = v.minutes;
    s.minutes_kl_warning = v.kl_warning;
    s.minutes_kl_critical = v.kl_critical;
    data.versions.push_back(std::move(s));
  }
  data.p50_ms = histogramPercentile(data.latency_all, 0.50);
  data.p95_ms = histogramPercentile(data.latency_all, 0.95);
  data.p99_ms = histogramPercentile(data.latency_all, 0.99);
  for (const auto& [key, count] : fired) {
    const int64_t noised = clampCount(take(1)[0]);
    data.events.push_back(EventCount{key.first, key.second, noised});
    data.events_total += noised;
  }
  const int64_t noised_previous_requests = clampCount(take(1)[0]);
  const int64_t noised_previous_errors = clampCount(take(1)[0]);
  const int64_t noised_previous_events = clampCount(take(1)[0]);
  store::LatencyCounts noised_previous_latency{};
  {
    auto latency = take(store::kLatencyBucketCount);
    for (size_t b = 0; b < noised_previous_latency.size(); ++b) {
      noised_previous_latency[b] = clampCount(latency[b]);
    }
  }

  // Week-over-week deltas.
  int64_t requests = 0;
  int64_t errors = 0;
  for (const VersionSeries& s : data.versions) {
    for (size_t d = 0; d < days; ++d) {
      requests += s.requests_per_day[d];
      errors += s.errors_per_day[d];
    }
  }
  auto delta = [&](std::string name, std::string unit, double current, double previous,
                   bool noised) {
    data.deltas.push_back(Delta{std::move(name), std::move(unit), current, previous,
                                relativeChange(current, previous), noised});
  };
  auto rate = [](int64_t part, int64_t whole) {
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : kNaN;
  };
  auto peak = [](const std::map<int64_t, double>& by_minute) {
    std::vector<double> values;
    values.reserve(by_minute.size());
    for (const auto& [at_ms, qps] : by_minute) {
      values.push_back(qps);
    }
    return values.empty() ? kNaN : nearestRank(std::move(values), 0.99);
  };
  delta("requests", "", static_cast<double>(requests),
        static_cast<double>(noised_previous_requests), true);
  delta("error_rate", "ratio", rate(errors, requests),
        rate(noised_previous_errors, noised_previous_requests), true);
  delta("p99_latency", "ms", data.p99_ms, histogramPercentile(noised_previous_latency, 0.99), true);
  delta("mean_accuracy", "ratio", current_accuracy.value(), previous_accuracy.value(), false);
  delta("mean_gpu_utilization", "ratio", current_gpu.value(), previous_gpu.value(), false);
  delta("peak_qps", "qps", peak(current_qps_by_minute), peak(previous_qps_by_minute), false);
  delta("anomaly_events", "", static_cast<double>(data.events_total),
        static_cast<double>(noised_previous_events), true);

  for (const auto& [model, minutes] : model_minutes) {
    data.capacity.push_back(capacityFor(model, minutes, options));
  }

  data.privacy.release = release;
  data.privacy.epsilon = epsilon;
  data.privacy.sensitivity = kReportSensitivity;
  DW_ASSIGN_OR_RETURN(data.privacy.spent_after, ledger.spent(release));
  DW_ASSIGN_OR_RETURN(data.privacy.remaining_after, ledger.remaining(release));
  data.privacy.noised = {
      "versions[].requests_per_day",  "versions[].errors_per_day",
      "versions[].latency_histogram", "latency.histogram",
      "anomalies.by_type[].count",    "deltas: requests, error_rate, p99_latency, anomaly_events"};
  data.privacy.not_noised = {
      "percentiles and error rates: computed from the noised counts (post-processing)",
      "gauges and rates of the gateway's windows: accuracy, QPS, p99 trend, utilisation, KL, PSI",
      "rollouts and rollbacks (operator and controller actions)", "experiments (caller-provided)",
      "capacity recommendation (from per-minute QPS and replicas)"};
  return data;
}

}  // namespace dw::report

namespace dw::report {
namespace {

// Standard normal CDF.
double normalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// Splits `requests` over the latency buckets as a log-normal with median p50 and 99th
// percentile p99 would (z(0.99) = 2.326).
store::LatencyCounts logNormalBuckets(int64_t requests, double p50_ms, double p99_ms) {
  store::LatencyCounts counts{};
  const double mu = std::log(p50_ms);
  const double sigma = std::max(std::log(p99_ms / p50_ms) / 2.326, 0.01);
  int64_t assigned = 0;
  double previous_cdf = 0;
  for (int b = 0; b < store::kLatencyBucketCount - 1; ++b) {
    const double cdf = normalCdf((std::log(store::latencyBucketUpperMs(b)) - mu) / sigma);
    const auto n =
        static_cast<int64_t>(std::llround(static_cast<double>(requests) * (cdf - previous_cdf)));
    counts[static_cast<size_t>(b)] = std::min(n, requests - assigned);
    assigned += counts[static_cast<size_t>(b)];
    previous_cdf = cdf;
  }
  counts[store::kLatencyBucketCount - 1] = requests - assigned;
  return counts;
}

}  // namespace

Status seedDemoData(store::Database& db, int64_t from_ms, int64_t to_ms, uint64_t seed) {
  constexpr int64_t kMinuteMs = 60'000;
  constexpr double kPi = 3.14159265358979323846;
  DW_ASSIGN_OR_RETURN(store::MetricsHistory history, store::MetricsHistory::open(db));
  DW_ASSIGN_OR_RETURN(store::ControlStore control, store::ControlStore::open(db));
  DW_ASSIGN_OR_RETURN(store::AlertEventStore alerts, store::AlertEventStore::open(db));
  Random random(seed);
  const int64_t start = from_ms - from_ms % kMinuteMs;
  // The canary lives from day 2 (0-based) at 10:00 to day 3 at 22:00 of each week.
  const int64_t week_ms = 7 * kDayMs;
  std::vector<store::HistoryRow> batch;
  for (int64_t at = start; at < to_ms; at += kMinuteMs) {
    const int64_t in_week = ((at - start) % week_ms + week_ms) % week_ms;
    const int64_t week_start = at - in_week;
    const int64_t deploy_ms = week_start + 2 * kDayMs + 10 * kHourMs;
    const int64_t rollback_ms = week_start + 3 * kDayMs + 22 * kHourMs;
    const bool canary = at >= deploy_ms && at < rollback_ms;
    if (at == deploy_ms) {
      DW_RETURN_IF_ERROR(
          control.addEvent({0, at, "deploy", "chat", "v2", "alice", "new training data", "{}"})
              .status());
      DW_RETURN_IF_ERROR(control
                             .addEvent({0, at + 30 * kMinuteMs, "canary_step", "chat", "v2",
                                        "controller", "gate passed: 5% -> 20%", "{}"})
                             .status());
    }
    if (at == rollback_ms) {
      DW_RETURN_IF_ERROR(control
                             .addEvent({0, at, "l3_rollback", "chat", "v1", "controller",
                                        "accuracy of v2 fell below the threshold", "{}"})
                             .status());
    }
    const double day_phase = static_cast<double>(at % kDayMs) / static_cast<double>(kDayMs);
    const double load = 220 + 160 * std::sin(2 * kPi * (day_phase - 0.3)) + 20 * random.uniform();
    const double replicas = load > 300 ? 4 : (load > 150 ? 3 : 2);
    const double progress =
        canary ? static_cast<double>(at - deploy_ms) / static_cast<double>(rollback_ms - deploy_ms)
               : 0;
    for (int v = 0; v < (canary ? 2 : 1); ++v) {
      const bool is_canary = v == 1;
      const double share = canary ? (is_canary ? 0.2 : 0.8) : 1.0;
      store::HistoryRow row;
      row.at_ms = at;
      row.model = "chat";
      row.version = is_canary ? "v2" : "v1";
      row.qps = load * share;
      row.requests = static_cast<int64_t>(std::llround(row.qps * 60));
      row.errors = static_cast<int64_t>(std::llround(static_cast<double>(row.requests) *
                                                     (is_canary ? 0.01 + 0.03 * progress : 0.002)));
      const double per_replica = load / replicas;
      row.p50_ms = 60 + 0.25 * per_replica + (is_canary ? 40 * progress : 0) + 5 * random.uniform();
      row.p95_ms = row.p50_ms * 2.4;
      row.p99_ms = row.p50_ms * (is_canary ? 4.5 + 3 * progress : 3.6);
      row.ttft_p99_ms = row.p99_ms * 0.4;
      if ((at / kMinuteMs) % 5 == 0) {
        row.accuracy = is_canary ? 0.84 - 0.10 * progress + 0.01 * random.uniform()
                                 : 0.86 + 0.01 * random.uniform();
      }
      row.mean_confidence = is_canary ? 0.78 - 0.1 * progress : 0.81;
      row.abnormal_ratio = is_canary ? 0.01 + 0.05 * progress : 0.005;
      row.gpu_utilization = std::min(0.98, 0.25 + 0.6 * per_replica / 120);
      row.kv_cache_usage = std::min(0.95, 0.2 + 0.5 * per_replica / 120);
      row.queue_length = per_replica > 100 ? (per_replica - 100) / 10 : 0;
      row.replicas = is_canary ? 1 : replicas;
      row.kl_max = is_canary ? 0.1 + 0.5 * progress : 0.05 + 0.03 * random.uniform();
      row.label_psi = is_canary ? 0.05 + 0.25 * progress : 0.02;
      row.latency = logNormalBuckets(row.requests, row.p50_ms, row.p99_ms);
      batch.push_back(std::move(row));
      if (is_canary && at % (2 * kHourMs) == 0 && progress > 0.3) {
        DW_RETURN_IF_ERROR(
            alerts.append({at, "fired", "input_drift", progress > 0.6 ? "critical" : "warning",
                           R"({"model":"chat","version":"v2"})", 0.4}));
      }
      if (is_canary && at % (3 * kHourMs) == 0) {
        DW_RETURN_IF_ERROR(
            alerts.append({at, "fired", "latency_p99", progress > 0.5 ? "critical" : "warning",
                           R"({"model":"chat","version":"v2"})", 700}));
      }
    }
    if (!canary && at % (11 * kHourMs) == 0) {
      DW_RETURN_IF_ERROR(alerts.append(
          {at, "fired", "error_rate", "warning", R"({"model":"chat","version":"v1"})", 0.02}));
    }
    if (batch.size() >= 2000) {
      DW_RETURN_IF_ERROR(history.append(batch));
      batch.clear();
    }
  }
  return history.append(batch);
}

int64_t mondayAtOrBefore(int64_t ms) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  const int64_t day = ms / kDay;
  const int64_t weekday = (day + 3) % 7;  // 1970-01-01 was a Thursday; Monday = 0.
  return (day - weekday) * kDay;
}

}  // namespace dw::report
