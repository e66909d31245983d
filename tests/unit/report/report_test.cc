// Tests of report_data.cc and report_html.cc: collectReport over a seeded synthetic history, the
// capacity recommendation on known numbers, differential privacy and the ledger, and the HTML.
#include <stdlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "report/report_data.h"
#include "report/report_html.h"
#include "security/dp_noise.h"
#include "store/control_store.h"
#include "store/database.h"
#include "store/metrics_history.h"

namespace dw::report {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
// Monday 2026-03-02 00:00 UTC.
constexpr int64_t kFrom = 1'772'409'600'000;
constexpr int64_t kTo = kFrom + 7 * kDayMs;

// A reproducible source of noise (the biased modulo does not matter in a test).
class SeededBits final : public security::RandomBits {
 public:
  explicit SeededBits(uint64_t seed) : random_(seed) {}
  uint64_t below(uint64_t bound) override { return random_.next() % bound; }

 private:
  Random random_;
};

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_report_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto db = store::Database::open((dir_ / "deepwatch.db").string());
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
    options_.bits = &bits_;
    options_.now_ms = kTo + 3600'000;
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Two weeks of synthetic history: the report's week and the one before it.
  void seed() { ASSERT_TRUE(seedDemoData(*db_, kFrom - 7 * kDayMs, kTo, 7).ok()); }

  StatusOr<ReportData> collect() { return collectReport(*db_, kFrom, kTo, options_); }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  SeededBits bits_{1234};
  ReportOptions options_;
};

TEST(ReportTimeTest, FormatsIsoAndRelease) {
  EXPECT_EQ(isoTime(kFrom), "2026-03-02T00:00:00Z");
  EXPECT_EQ(reportRelease(kFrom), "report/2026-03-02");
}

TEST(ReportCapacityTest, RoundsUpWithThirtyPercentHeadroom) {
  EXPECT_EQ(recommendedReplicas(700, 100, 0.3), 10);
  EXPECT_EQ(recommendedReplicas(701, 100, 0.3), 11);
  EXPECT_EQ(recommendedReplicas(99, 40, 0.3), 4);  // 3.54 -> 4
  EXPECT_EQ(recommendedReplicas(0, 100, 0.3), 1);
  EXPECT_EQ(recommendedReplicas(100, 0, 0.3), 1);
}

TEST(ReportPercentileTest, InterpolatesInsideLogBuckets) {
  store::LatencyCounts counts{};
  EXPECT_TRUE(std::isnan(histogramPercentile(counts, 0.5)));
  const int b = store::latencyBucketFor(100);
  counts[static_cast<size_t>(b)] = 100;
  const double p50 = histogramPercentile(counts, 0.5);
  EXPECT_GT(p50, store::latencyBucketLowerMs(b));
  EXPECT_LT(p50, store::latencyBucketUpperMs(b));
  // Geometric midpoint of the bucket.
  EXPECT_NEAR(p50, std::sqrt(store::latencyBucketLowerMs(b) * store::latencyBucketUpperMs(b)),
              1e-6);
  counts[store::kLatencyBucketCount - 1] = 10'000;
  EXPECT_DOUBLE_EQ(histogramPercentile(counts, 0.99), store::kLatencyMaxMs);
  counts[static_cast<size_t>(b)] = -50;  // Negative noised counts count as 0.
  EXPECT_DOUBLE_EQ(histogramPercentile(counts, 0.01), store::kLatencyMaxMs);
}

TEST_F(ReportTest, CollectFillsEverySectionFromSyntheticWeek) {
  seed();
  options_.experiments.push_back(
      Experiment{"prompt-v3", {"A", "B"}, "ship", "B", 0.021, 0.004, 0.038});
  auto data = collect();
  ASSERT_TRUE(data.ok()) << data.status().toString();
  EXPECT_EQ(data->previous_from_ms, kFrom - 7 * kDayMs);
  EXPECT_EQ(data->grid_ms.size(), 168u);
  EXPECT_EQ(data->day_ms.size(), 7u);
  ASSERT_EQ(data->versions.size(), 2u);
  for (const VersionSeries& v : data->versions) {
    EXPECT_EQ(v.model, "chat");
    EXPECT_EQ(v.accuracy.size(), 168u);
    EXPECT_FALSE(std::isnan(v.mean_accuracy));
    EXPECT_FALSE(std::isnan(v.mean_gpu_utilization));
    EXPECT_FALSE(std::isnan(v.p99_ms_hist));
    EXPECT_GT(v.minutes, 0);
  }
  const VersionSeries& v1 = data->versions[0];
  const VersionSeries& v2 = data->versions[1];
  EXPECT_EQ(v1.version, "v1");
  EXPECT_EQ(v1.minutes, 7 * 24 * 60);
  EXPECT_GT(v1.mean_accuracy, v2.mean_accuracy);
  EXPECT_GT(v2.max_kl, 0.5);
  EXPECT_GT(v2.minutes_kl_critical, 0);
  EXPECT_GT(v2.p99_ms_hist, v1.p99_ms_hist);
  EXPECT_GT(std::accumulate(data->latency_all.begin(), data->latency_all.end(), int64_t{0}), 0);
  EXPECT_LT(data->p50_ms, data->p95_ms);
  EXPECT_LE(data->p95_ms, data->p99_ms);

  ASSERT_FALSE(data->events.empty());
  EXPECT_GT(data->events_total, 0);
  bool critical = false;
  for (const EventCount& e : data->events) {
    critical = critical || e.severity == "critical";
  }
  EXPECT_TRUE(critical);

  EXPECT_GE(data->rollouts, 2);  // deploy and canary_step
  EXPECT_EQ(data->rollbacks, 1);
  bool rollback = false;
  for (const ControlEvent& e : data->control_events) {
    rollback = rollback || (e.kind == "l3_rollback" && e.category == "rollback");
  }
  EXPECT_TRUE(rollback);

  ASSERT_EQ(data->experiments.size(), 1u);
  EXPECT_EQ(data->experiments[0].winner, "B");

  ASSERT_EQ(data->deltas.size(), 7u);
  for (const Delta& d : data->deltas) {
    EXPECT_FALSE(std::isnan(d.current)) << d.name;
    EXPECT_FALSE(std::isnan(d.previous)) << d.name;
  }

  ASSERT_EQ(data->capacity.size(), 1u);
  const CapacityRecommendation& c = data->capacity[0];
  EXPECT_EQ(c.model, "chat");
  EXPECT_EQ(c.per_replica_source, "measured");
  EXPECT_GT(c.peak_qps, 300);
  EXPECT_EQ(c.recommended_replicas, recommendedReplicas(c.peak_qps, c.per_replica_qps, 0.3));
  EXPECT_NE(c.explanation.find("ceil("), std::string::npos);

  EXPECT_EQ(data->privacy.release, "report/2026-03-02");
  EXPECT_DOUBLE_EQ(data->privacy.epsilon, 1.0);
  EXPECT_EQ(data->privacy.sensitivity, kReportSensitivity);
  EXPECT_DOUBLE_EQ(data->privacy.spent_after, 1.0);
  EXPECT_DOUBLE_EQ(data->privacy.remaining_after, 2.0);
}

TEST_F(ReportTest, CapacityOnKnownNumbers) {
  auto history = store::MetricsHistory::open(*db_);
  ASSERT_TRUE(history.ok());
  // 100 minutes at 1..100 QPS on 2 replicas; above 80 QPS the p99 is over the acceptable 500 ms,
  // so the measured capacity is 80 / 2 = 40 QPS per replica. The p99 of the minute QPS is 99.
  std::vector<store::HistoryRow> rows;
  for (int i = 1; i <= 100; ++i) {
    store::HistoryRow row;
    row.at_ms = kFrom + i * 60'000;
    row.model = "m";
    row.version = "v1";
    row.qps = i;
    row.requests = i * 60;
    row.replicas = 2;
    row.p99_ms = i > 80 ? 900 : 100;
    rows.push_back(row);
  }
  ASSERT_TRUE(history->append(rows).ok());
  auto data = collect();
  ASSERT_TRUE(data.ok()) << data.status().toString();
  ASSERT_EQ(data->capacity.size(), 1u);
  EXPECT_DOUBLE_EQ(data->capacity[0].peak_qps, 99);
  EXPECT_DOUBLE_EQ(data->capacity[0].per_replica_qps, 40);
  EXPECT_EQ(data->capacity[0].per_replica_source, "measured");
  EXPECT_EQ(data->capacity[0].recommended_replicas, 4);  // ceil(99 / 40 / 0.7) = ceil(3.54)
  EXPECT_DOUBLE_EQ(data->capacity[0].current_replicas, 2);

  options_.target_qps_per_replica = 50;
  data = collect();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->capacity[0].per_replica_source, "target");
  EXPECT_EQ(data->capacity[0].recommended_replicas, 3);  // ceil(99 / 50 / 0.7) = ceil(2.83)
}

TEST_F(ReportTest, NoisedCountsDifferButTotalsStayWithinAFewScales) {
  seed();
  auto history = store::MetricsHistory::open(*db_);
  ASSERT_TRUE(history.ok());
  auto rows = history->range(kFrom, kTo);
  ASSERT_TRUE(rows.ok());
  int64_t exact_requests = 0;
  int64_t exact_errors = 0;
  for (const store::HistoryRow& row : *rows) {
    exact_requests += row.requests;
    exact_errors += row.errors;
  }
  options_.epsilon = 0.5;  // Scale 3 / 0.5 = 6.
  auto data = collect();
  ASSERT_TRUE(data.ok()) << data.status().toString();
  const double scale = static_cast<double>(kReportSensitivity) / options_.epsilon;
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t histogram = 0;
  int differing = 0;
  for (const VersionSeries& v : data->versions) {
    requests += std::accumulate(v.requests_per_day.begin(), v.requests_per_day.end(), int64_t{0});
    errors += std::accumulate(v.errors_per_day.begin(), v.errors_per_day.end(), int64_t{0});
    histogram += std::accumulate(v.latency.begin(), v.latency.end(), int64_t{0});
  }
  // Per-day exact counts of v1 to compare with the noised ones.
  std::vector<int64_t> exact_v1(7, 0);
  for (const store::HistoryRow& row : *rows) {
    if (row.version == "v1") {
      exact_v1[static_cast<size_t>((row.at_ms - kFrom) / kDayMs)] += row.requests;
    }
  }
  for (size_t d = 0; d < 7; ++d) {
    differing += data->versions[0].requests_per_day[d] != exact_v1[d] ? 1 : 0;
  }
  EXPECT_GT(differing, 0);
  EXPECT_NE(requests, exact_requests);
  // Sums of 9 (7 + 2 days) independent discrete Laplace draws of scale 6: sd ~ 25.
  EXPECT_LE(std::abs(requests - exact_requests), 20 * scale);
  EXPECT_LE(std::abs(errors - exact_errors), 20 * scale);
  EXPECT_LE(std::abs(histogram - exact_requests), 30 * scale);
  EXPECT_DOUBLE_EQ(data->privacy.epsilon, 0.5);
}

TEST_F(ReportTest, RefusesToReleaseWhenTheBudgetIsSpent) {
  seed();
  options_.budget = 1.5;
  ASSERT_TRUE(collect().ok());
  auto refused = collect();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("report/2026-03-02"), std::string::npos);
  EXPECT_NE(refused.status().message().find("exhausted"), std::string::npos);
  // A smaller release still fits in what is left.
  options_.epsilon = 0.5;
  EXPECT_TRUE(collect().ok());
}

TEST_F(ReportTest, RejectsAnEmptyPeriod) {
  auto data = collectReport(*db_, kTo, kFrom, options_);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
}

constexpr const char* kHeadings[] = {"概览 Overview",
                                     "准确率趋势 Accuracy trend",
                                     "延迟分布 Latency distribution",
                                     "硬件利用率 Hardware utilisation",
                                     "异常事件 Anomaly events",
                                     "发布与回滚 Rollouts and rollbacks",
                                     "A/B 实验 Experiments",
                                     "数据漂移 Drift",
                                     "周环比 Week-over-week deltas",
                                     "容量建议 Capacity recommendation"};

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(ReportTest, HtmlHasEverySectionBalancedSvgAndNoExternalResource) {
  seed();
  auto data = collect();
  ASSERT_TRUE(data.ok()) << data.status().toString();
  const std::string html = renderHtml(*data);
  for (const char* heading : kHeadings) {
    EXPECT_NE(html.find(heading), std::string::npos) << heading;
  }
  EXPECT_GE(count(html, "<svg"), 8u);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<section"), count(html, "</section>"));
  EXPECT_EQ(count(html, "<table"), count(html, "</table>"));
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("l3_rollback"), std::string::npos);
  EXPECT_EQ(html.rfind("</html>\n"), html.size() - 8);

  const nlohmann::json j = toJson(*data);
  for (const char* key :
       {"period", "privacy", "traffic", "accuracy_trend", "latency", "hardware", "anomalies",
        "rollouts", "experiments", "drift", "week_over_week", "capacity"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["privacy"]["epsilon"], 1.0);
  EXPECT_FALSE(j["privacy"]["noised"].empty());
  EXPECT_EQ(j["latency"]["histogram"].size(), static_cast<size_t>(store::kLatencyBucketCount));
  EXPECT_EQ(j["capacity"][0]["formula"], "ceil(peak_qps / per_replica_qps / (1 - headroom))");
}

TEST_F(ReportTest, HtmlEscapesAHostileModelName) {
  auto history = store::MetricsHistory::open(*db_);
  ASSERT_TRUE(history.ok());
  store::HistoryRow row;
  row.at_ms = kFrom + 60'000;
  row.model = "<script>alert('x')</script>";
  row.version = "v\"1&";
  row.requests = 100;
  row.qps = 1.6;
  row.accuracy = 0.9;
  row.latency[4] = 100;
  ASSERT_TRUE(history->append({row}).ok());
  auto control = store::ControlStore::open(*db_);
  ASSERT_TRUE(control.ok());
  ASSERT_TRUE(
      control
          ->addEvent({0, kFrom + 120'000, "rollback", row.model, "v0", "<b>eve</b>", "<i>", "{}"})
          .ok());
  auto data = collect();
  ASSERT_TRUE(data.ok()) << data.status().toString();
  const std::string html = renderHtml(*data);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>eve"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("v&quot;1&amp;"), std::string::npos);
  EXPECT_EQ(toJson(*data)["accuracy_trend"][0]["model"], row.model);
}

TEST_F(ReportTest, EverySectionIsPresentWhenThereIsNoData) {
  auto data = collect();
  ASSERT_TRUE(data.ok()) << data.status().toString();
  const std::string html = renderHtml(*data);
  for (const char* heading : kHeadings) {
    EXPECT_NE(html.find(heading), std::string::npos) << heading;
  }
  EXPECT_GE(count(html, "No data in this period"), 9u);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  const nlohmann::json j = toJson(*data);
  EXPECT_TRUE(j["capacity"].empty());
  EXPECT_TRUE(j["latency"]["p99_ms"].is_null());
}

}  // namespace
}  // namespace dw::report
