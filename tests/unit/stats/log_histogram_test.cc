#include "stats/log_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"

namespace dw::stats {
namespace {

// The latency layout of the gateway: 1% relative accuracy, 100 us .. 1000 s.
constexpr double kAccuracy = 0.01;
constexpr double kMin = 1e-4;
constexpr double kMax = 1e3;

// Log-normal values strictly between kMin and kMax (median 0.1, wide spread).
std::vector<double> logNormalSample(Random& random, size_t n) {
  std::vector<double> out;
  out.reserve(n);
  while (out.size() < n) {
    const double u1 = 1.0 - random.uniform();
    const double u2 = random.uniform();
    const double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
    const double x = std::exp(std::log(0.1) + 2.5 * z);
    if (x > kMin && x < kMax) {
      out.push_back(x);
    }
  }
  return out;
}

double relativeError(double value, double exact) { return std::fabs(value - exact) / exact; }

TEST(LogHistogramTest, EveryQuantileIsWithinTheRelativeAccuracy) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  LogHistogram histogram(buckets);
  Random random(42);
  std::vector<double> values = logNormalSample(random, 10000);
  for (double v : values) {
    histogram.add(v);
  }
  std::sort(values.begin(), values.end());
  ASSERT_EQ(histogram.count(), values.size());
  for (int i = 0; i <= 1000; ++i) {
    const double q = i / 1000.0;
    const auto rank = static_cast<size_t>(std::floor(q * static_cast<double>(values.size() - 1)));
    const double exact = values[rank];
    EXPECT_LE(relativeError(histogram.quantile(q), exact), kAccuracy * (1 + 1e-9))
        << "q=" << q << " exact=" << exact << " got=" << histogram.quantile(q);
  }
}

TEST(LogHistogramTest, QuantilesOfASmallSampleUseTheLowerRank) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  LogHistogram histogram(buckets);
  for (double v : {1.0, 2.0, 3.0, 4.0}) {
    histogram.add(v);
  }
  // Ranks floor(q * 3): 0.5 -> 1 (2.0), 0.99 -> 2 (3.0), 1 -> 3 (4.0).
  EXPECT_NEAR(histogram.quantile(0), 1.0, 0.01);
  EXPECT_NEAR(histogram.quantile(0.5), 2.0, 0.02);
  EXPECT_NEAR(histogram.quantile(0.99), 3.0, 0.03);
  EXPECT_NEAR(histogram.quantile(1), 4.0, 0.04);
  // Out-of-range q is clamped.
  EXPECT_EQ(histogram.quantile(-1), histogram.quantile(0));
  EXPECT_EQ(histogram.quantile(2), histogram.quantile(1));
}

TEST(LogHistogramTest, EveryBucketValueIsWithinAccuracyOfItsValues) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  Random random(8);
  for (int i = 0; i < 100000; ++i) {
    // Log-uniform over the range.
    const double x = kMin * std::pow(kMax / kMin, random.uniform());
    if (!(x > kMin && x < kMax)) {
      continue;
    }
    const int index = buckets.index(x);
    ASSERT_GT(index, 0) << x;
    ASSERT_LT(index, buckets.count()) << x;
    ASSERT_LE(relativeError(buckets.value(index), x), kAccuracy * (1 + 1e-9)) << x;
  }
}

// DISABLED: src/stats/log_histogram.cc, LogBuckets::index and LogBuckets::value. Values in
// (gamma^(high - 1), max_value), just below max_value, share the top bucket with the values at or
// above max_value, and that bucket reads back as max_value itself: with the default layout
// LogBuckets() (1%, 1e-6 .. 1e4), 9901 reads back as 10000 (1.0% off, more than the promised
// 1%), and with LogBuckets(0.01, 1e-6, 5000), 4920 reads back as 5000 (1.6% off). The gateway's
// own layouts (latency 1e-4 .. 1e3: at most 0.76%) happen to stay within the bound.
TEST(LogHistogramTest, ValuesJustBelowMaxStayWithinTheRelativeAccuracy) {
  const LogBuckets defaults;
  LogHistogram histogram(defaults);
  histogram.add(9901);
  EXPECT_LE(relativeError(histogram.quantile(0.5), 9901), 0.01);

  const LogBuckets odd_max(0.01, 1e-6, 5000);
  LogHistogram other(odd_max);
  other.add(4920);
  EXPECT_LE(relativeError(other.quantile(0.5), 4920), 0.01);
}

TEST(LogHistogramTest, ValuesAtOrBelowMinLandInTheFirstBucket) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  EXPECT_EQ(buckets.index(kMin), 0);
  EXPECT_EQ(buckets.index(kMin / 10), 0);
  EXPECT_EQ(buckets.index(0), 0);
  EXPECT_EQ(buckets.index(-5), 0);
  EXPECT_EQ(buckets.index(std::nan("")), 0);
  EXPECT_EQ(buckets.index(kMin * 1.0001), 1);
  EXPECT_EQ(buckets.value(0), kMin);
}

TEST(LogHistogramTest, ValuesAtOrAboveMaxLandInTheLastBucket) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  const int last = buckets.count() - 1;
  EXPECT_EQ(buckets.index(kMax), last);
  EXPECT_EQ(buckets.index(kMax * 10), last);
  EXPECT_EQ(buckets.index(1e300), last);
  EXPECT_EQ(buckets.index(std::numeric_limits<double>::infinity()), last);
  EXPECT_EQ(buckets.value(last), kMax);
  EXPECT_LT(buckets.index(kMax / 1.05), last);

  LogHistogram histogram(buckets);
  histogram.add(5e6);
  EXPECT_EQ(histogram.counts()[last], 1u);
  EXPECT_EQ(histogram.quantile(0.5), kMax);
}

TEST(LogHistogramTest, BucketCountCoversTheRange) {
  // About ln(max / min) / ln(gamma) buckets, plus the two end buckets.
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  const double gamma = (1 + kAccuracy) / (1 - kAccuracy);
  const double expected = std::log(kMax / kMin) / std::log(gamma);
  EXPECT_NEAR(buckets.count(), expected + 2, 2);
  EXPECT_EQ(buckets.relativeAccuracy(), kAccuracy);
}

TEST(LogHistogramTest, EmptyHistogramQuantileIsNan) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  LogHistogram histogram(buckets);
  EXPECT_TRUE(std::isnan(histogram.quantile(0.5)));
  EXPECT_TRUE(std::isnan(histogram.quantile(0)));
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.sum(), 0.0);
}

TEST(LogHistogramTest, TracksCountAndSum) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  LogHistogram histogram(buckets);
  histogram.add(0.5);
  histogram.add(2.0, 3);
  EXPECT_EQ(histogram.count(), 4u);
  EXPECT_DOUBLE_EQ(histogram.sum(), 6.5);
  EXPECT_EQ(histogram.counts()[buckets.index(2.0)], 3u);
}

TEST(LogHistogramTest, AddBucketCountsTheBucketValue) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  LogHistogram histogram(buckets);
  const int index = buckets.index(0.25);
  histogram.addBucket(index, 4);
  EXPECT_EQ(histogram.count(), 4u);
  EXPECT_EQ(histogram.counts()[index], 4u);
  EXPECT_DOUBLE_EQ(histogram.sum(), 4 * buckets.value(index));
  EXPECT_EQ(histogram.quantile(0.5), buckets.value(index));
}

TEST(LogHistogramTest, MergeEqualsTheHistogramOfAllValues) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  Random random(77);
  const std::vector<double> a = logNormalSample(random, 3000);
  const std::vector<double> b = logNormalSample(random, 5000);
  LogHistogram ha(buckets);
  LogHistogram hb(buckets);
  LogHistogram all(buckets);
  for (double v : a) {
    ha.add(v);
    all.add(v);
  }
  for (double v : b) {
    hb.add(v);
    all.add(v);
  }
  ha.merge(hb);
  EXPECT_EQ(ha.counts(), all.counts());
  EXPECT_EQ(ha.count(), all.count());
  EXPECT_NEAR(ha.sum(), all.sum(), 1e-9 * all.sum());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    EXPECT_EQ(ha.quantile(q), all.quantile(q)) << q;
  }
}

TEST(LogHistogramTest, SubtractUndoesMerge) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  Random random(78);
  LogHistogram window(buckets);
  LogHistogram tick(buckets);
  for (double v : logNormalSample(random, 2000)) {
    window.add(v);
  }
  for (double v : logNormalSample(random, 700)) {
    tick.add(v);
  }
  const std::vector<uint64_t> before = window.counts();
  const uint64_t count_before = window.count();
  const double sum_before = window.sum();
  window.merge(tick);
  EXPECT_EQ(window.count(), count_before + 700);
  window.subtract(tick);
  EXPECT_EQ(window.counts(), before);
  EXPECT_EQ(window.count(), count_before);
  EXPECT_NEAR(window.sum(), sum_before, 1e-9 * sum_before);
}

TEST(LogHistogramTest, ClearEmptiesTheHistogram) {
  const LogBuckets buckets(kAccuracy, kMin, kMax);
  LogHistogram histogram(buckets);
  histogram.add(1.5, 10);
  histogram.clear();
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.sum(), 0.0);
  EXPECT_TRUE(std::all_of(histogram.counts().begin(), histogram.counts().end(),
                          [](uint64_t c) { return c == 0; }));
  EXPECT_TRUE(std::isnan(histogram.quantile(0.5)));
}

}  // namespace
}  // namespace dw::stats
