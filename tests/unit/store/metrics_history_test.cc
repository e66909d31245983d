#include "store/metrics_history.h"

#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/database.h"

namespace dw::store {
namespace {

class MetricsHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_history_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }
  void TearDown() override {
    history_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void reopen() {
    history_.reset();
    db_.reset();
    auto db = Database::open((dir_ / "deepwatch.db").string());
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
    auto history = MetricsHistory::open(*db_);
    ASSERT_TRUE(history.ok()) << history.status().toString();
    history_.emplace(std::move(history).value());
  }

  static HistoryRow row(int64_t at_ms, const std::string& version) {
    HistoryRow r;
    r.at_ms = at_ms;
    r.model = "chat";
    r.version = version;
    r.requests = 600;
    r.errors = 3;
    r.qps = 10;
    r.p50_ms = 80;
    r.p95_ms = 200;
    r.p99_ms = 320;
    r.ttft_p99_ms = 120;
    r.mean_confidence = 0.8;
    r.abnormal_ratio = 0.01;
    r.gpu_utilization = 0.5;
    r.kv_cache_usage = 0.4;
    r.queue_length = 2;
    r.replicas = 3;
    r.kl_max = 0.12;
    r.label_psi = 0.03;
    r.latency[latencyBucketFor(80)] = 500;
    r.latency[latencyBucketFor(320)] = 100;
    return r;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::optional<MetricsHistory> history_;
};

TEST(MetricsHistoryBucketsTest, AreLogSpacedFromFiveMillisecondsToSixtySeconds) {
  EXPECT_DOUBLE_EQ(latencyBucketUpperMs(0), 5.0);
  EXPECT_NEAR(latencyBucketUpperMs(kLatencyBucketCount - 2), 60'000.0, 1e-6);
  EXPECT_TRUE(std::isinf(latencyBucketUpperMs(kLatencyBucketCount - 1)));
  const double ratio = latencyBucketUpperMs(1) / latencyBucketUpperMs(0);
  for (int b = 1; b < kLatencyBucketCount - 1; ++b) {
    EXPECT_NEAR(latencyBucketUpperMs(b) / latencyBucketUpperMs(b - 1), ratio, 1e-9);
    EXPECT_DOUBLE_EQ(latencyBucketLowerMs(b), latencyBucketUpperMs(b - 1));
  }
  EXPECT_EQ(latencyBucketFor(-1), 0);
  EXPECT_EQ(latencyBucketFor(5), 0);
  EXPECT_EQ(latencyBucketFor(5.01), 1);
  EXPECT_EQ(latencyBucketFor(60'000), kLatencyBucketCount - 2);
  EXPECT_EQ(latencyBucketFor(60'001), kLatencyBucketCount - 1);
  for (double ms : {7.0, 42.0, 480.0, 3'000.0}) {
    const int b = latencyBucketFor(ms);
    EXPECT_GT(ms, latencyBucketLowerMs(b));
    EXPECT_LE(ms, latencyBucketUpperMs(b));
  }
}

TEST_F(MetricsHistoryTest, RoundTripsRowsWithLatencyAndNullAccuracy) {
  HistoryRow a = row(60'000, "v1");
  a.accuracy = 0.87;
  HistoryRow b = row(60'000, "v2");  // No probe ran: accuracy stays absent.
  HistoryRow c = row(120'000, "v1");
  ASSERT_TRUE(history_->append({c, a, b}).ok());
  reopen();
  auto rows = history_->range(0, 1'000'000);
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].version, "v1");
  EXPECT_EQ((*rows)[0].at_ms, 60'000);
  ASSERT_TRUE((*rows)[0].accuracy.has_value());
  EXPECT_DOUBLE_EQ(*(*rows)[0].accuracy, 0.87);
  EXPECT_EQ((*rows)[1].version, "v2");
  EXPECT_FALSE((*rows)[1].accuracy.has_value());
  EXPECT_EQ((*rows)[2].at_ms, 120'000);
  const HistoryRow& r = (*rows)[0];
  EXPECT_EQ(r.requests, 600);
  EXPECT_EQ(r.errors, 3);
  EXPECT_DOUBLE_EQ(r.qps, 10);
  EXPECT_DOUBLE_EQ(r.p50_ms, 80);
  EXPECT_DOUBLE_EQ(r.p95_ms, 200);
  EXPECT_DOUBLE_EQ(r.p99_ms, 320);
  EXPECT_DOUBLE_EQ(r.ttft_p99_ms, 120);
  EXPECT_DOUBLE_EQ(r.mean_confidence, 0.8);
  EXPECT_DOUBLE_EQ(r.abnormal_ratio, 0.01);
  EXPECT_DOUBLE_EQ(r.gpu_utilization, 0.5);
  EXPECT_DOUBLE_EQ(r.kv_cache_usage, 0.4);
  EXPECT_DOUBLE_EQ(r.queue_length, 2);
  EXPECT_DOUBLE_EQ(r.replicas, 3);
  EXPECT_DOUBLE_EQ(r.kl_max, 0.12);
  EXPECT_DOUBLE_EQ(r.label_psi, 0.03);
  EXPECT_EQ(r.latency, a.latency);
}

TEST_F(MetricsHistoryTest, RangeIsHalfOpen) {
  ASSERT_TRUE(history_->append({row(0, "v1"), row(60'000, "v1"), row(120'000, "v1")}).ok());
  auto rows = history_->range(60'000, 120'000);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].at_ms, 60'000);
}

TEST_F(MetricsHistoryTest, AppendingTheSameMinuteAgainReplacesIt) {
  HistoryRow first = row(60'000, "v1");
  ASSERT_TRUE(history_->append({first}).ok());
  HistoryRow again = row(60'000, "v1");
  again.requests = 42;
  again.latency = {};
  again.latency[3] = 42;
  ASSERT_TRUE(history_->append({again}).ok());
  auto rows = history_->range(0, 1'000'000);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].requests, 42);
  EXPECT_EQ((*rows)[0].latency, again.latency);
}

TEST_F(MetricsHistoryTest, PruneDeletesOlderRowsAndTheirBuckets) {
  ASSERT_TRUE(history_->append({row(0, "v1"), row(60'000, "v1"), row(120'000, "v2")}).ok());
  auto removed = history_->prune(120'000);
  ASSERT_TRUE(removed.ok()) << removed.status().toString();
  EXPECT_EQ(*removed, 2);
  auto rows = history_->range(0, 1'000'000);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].version, "v2");
  auto stmt = db_->prepare("SELECT COUNT(*) FROM latency_buckets WHERE at_ms < 120000");
  ASSERT_TRUE(stmt.ok());
  auto more = stmt->step();
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(stmt->integer(0), 0);
}

TEST_F(MetricsHistoryTest, EmptyAppendAndEmptyRangeAreFine) {
  EXPECT_TRUE(history_->append({}).ok());
  auto rows = history_->range(0, 1'000'000);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

}  // namespace
}  // namespace dw::store
