#include "stats/bucket_histogram.h"

#include <vector>

#include <gtest/gtest.h>

namespace dw::stats {
namespace {

const std::vector<double> kBounds = {1, 2, 5};

TEST(BucketHistogramTest, StartsEmpty) {
  BucketHistogram histogram(kBounds);
  EXPECT_EQ(histogram.bounds(), kBounds);
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.sum(), 0.0);
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    EXPECT_EQ(histogram.bucketCount(i), 0u);
  }
}

TEST(BucketHistogramTest, ValueOnABoundLandsInThatBucket) {
  // Prometheus "le" semantics: a bucket counts values less than or equal to its bound.
  BucketHistogram histogram(kBounds);
  histogram.observe(1);
  histogram.observe(2);
  histogram.observe(5);
  EXPECT_EQ(histogram.bucketCount(0), 1u);
  EXPECT_EQ(histogram.bucketCount(1), 1u);
  EXPECT_EQ(histogram.bucketCount(2), 1u);
  EXPECT_EQ(histogram.bucketCount(3), 0u);
}

TEST(BucketHistogramTest, ValuesAboveABoundGoToTheNextBucket) {
  BucketHistogram histogram(kBounds);
  histogram.observe(0.5);
  histogram.observe(1.0000001);
  histogram.observe(4.9);
  histogram.observe(5.0000001);
  histogram.observe(1e9);
  histogram.observe(-3);
  EXPECT_EQ(histogram.bucketCount(0), 2u);  // 0.5 and -3.
  EXPECT_EQ(histogram.bucketCount(1), 1u);  // 1.0000001.
  EXPECT_EQ(histogram.bucketCount(2), 1u);  // 4.9.
  EXPECT_EQ(histogram.bucketCount(3), 2u);  // 5.0000001 and 1e9 (+Inf bucket).
  EXPECT_EQ(histogram.count(), 6u);
}

TEST(BucketHistogramTest, TracksSumAndCount) {
  BucketHistogram histogram(kBounds);
  histogram.observe(0.5);
  histogram.observe(1.5);
  histogram.observe(10);
  EXPECT_EQ(histogram.count(), 3u);
  EXPECT_DOUBLE_EQ(histogram.sum(), 12.0);
}

TEST(BucketHistogramTest, MergeAddsCountsSumAndTotal) {
  BucketHistogram a(kBounds);
  BucketHistogram b(kBounds);
  a.observe(1);
  a.observe(3);
  b.observe(1);
  b.observe(2);
  b.observe(100);
  a.merge(b);
  EXPECT_EQ(a.bucketCount(0), 2u);
  EXPECT_EQ(a.bucketCount(1), 1u);
  EXPECT_EQ(a.bucketCount(2), 1u);
  EXPECT_EQ(a.bucketCount(3), 1u);
  EXPECT_EQ(a.count(), 5u);
  EXPECT_DOUBLE_EQ(a.sum(), 107.0);
  // The merged-in shard is unchanged.
  EXPECT_EQ(b.count(), 3u);
  EXPECT_DOUBLE_EQ(b.sum(), 103.0);
}

TEST(BucketHistogramTest, MergeOfEmptyChangesNothing) {
  BucketHistogram a(kBounds);
  a.observe(2);
  a.merge(BucketHistogram(kBounds));
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(a.bucketCount(1), 1u);
  EXPECT_DOUBLE_EQ(a.sum(), 2.0);
}

}  // namespace
}  // namespace dw::stats
