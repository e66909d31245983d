#include "stats/bootstrap.h"

#include <cmath>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"

namespace dw::stats {
namespace {

using Values = std::vector<double>;

double meanOf(std::span<double> values) { return mean(values); }

Values normalSample(Random& random, size_t n, double mu, double sigma) {
  std::normal_distribution<double> normal(mu, sigma);
  Values values(n);
  for (double& v : values) {
    v = normal(random);
  }
  return values;
}

TEST(BootstrapTest, QuantileMatchesNumpyLinear) {
  // numpy.quantile([1, 2, 3, 4], q) for q = 0, 0.5, 0.99, 1.
  const Values values = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(quantile(values, 0), 1);
  EXPECT_DOUBLE_EQ(quantile(values, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile(values, 0.99), 3.97);
  EXPECT_DOUBLE_EQ(quantile(values, 1), 4);
  EXPECT_DOUBLE_EQ(quantile(Values{7}, 0.3), 7);
  EXPECT_TRUE(std::isnan(quantile(Values{}, 0.5)));
}

TEST(BootstrapTest, QuantileInPlaceAgreesWithSortedOrderStatistics) {
  Random random(7);
  Values values = normalSample(random, 1001, 0, 1);
  Values sorted = values;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_DOUBLE_EQ(quantileInPlace(values, 0.5), sorted[500]);
  EXPECT_DOUBLE_EQ(quantileInPlace(values, 0.99), sorted[990]);
}

TEST(BootstrapTest, NormalQuantileInvertsTheCdf) {
  EXPECT_NEAR(normalCdf(1.959963984540054), 0.975, 1e-12);
  EXPECT_NEAR(normalQuantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(normalQuantile(0.5), 0, 1e-12);
  EXPECT_NEAR(normalQuantile(0.05), -1.6448536269514729, 1e-9);
}

TEST(BootstrapTest, SameSeedGivesSameInterval) {
  Random data(1);
  const Values sample = normalSample(data, 50, 10, 3);
  Random a(42);
  Random b(42);
  const Interval x = bootstrapPercentile(sample, meanOf, a, {.resamples = 300});
  const Interval y = bootstrapPercentile(sample, meanOf, b, {.resamples = 300});
  EXPECT_EQ(x.low, y.low);
  EXPECT_EQ(x.high, y.high);
  EXPECT_DOUBLE_EQ(x.estimate, mean(sample));
  EXPECT_LT(x.low, x.estimate);
  EXPECT_GT(x.high, x.estimate);
}

TEST(BootstrapTest, ConstantSampleHasZeroWidthInterval) {
  Random random(3);
  const Values sample(20, 2.5);
  const Interval i = bootstrapPercentile(sample, meanOf, random, {.resamples = 100});
  EXPECT_EQ(i.low, 2.5);
  EXPECT_EQ(i.high, 2.5);
}

TEST(BootstrapTest, EmptySampleIsUndefined) {
  Random random(3);
  const Interval i = bootstrapPercentile(Values{}, meanOf, random);
  EXPECT_TRUE(std::isnan(i.estimate));
  EXPECT_TRUE(std::isnan(i.low));
}

// The 95% percentile interval of a mean (n = 40, normal data) covers the true mean in about
// 95% of repetitions; the percentile bootstrap runs a little narrow at small n, hence the band.
TEST(BootstrapTest, PercentileIntervalOfMeanCoversAtNominalRate) {
  Random random(2024);
  constexpr int kRepetitions = 200;
  int covered = 0;
  for (int r = 0; r < kRepetitions; ++r) {
    const Values sample = normalSample(random, 40, 5, 2);
    const Interval i = bootstrapPercentile(sample, meanOf, random, {.resamples = 400});
    covered += (i.low <= 5 && 5 <= i.high) ? 1 : 0;
  }
  EXPECT_GE(covered, 0.88 * kRepetitions);
  EXPECT_LE(covered, 0.99 * kRepetitions);
}

// The same for BCa on skewed data (exponential, mean 1), where it corrects the percentile
// interval's bias.
TEST(BootstrapTest, BcaIntervalOfSkewedMeanCoversAtNominalRate) {
  Random random(77);
  std::exponential_distribution<double> exponential(1.0);
  constexpr int kRepetitions = 200;
  int covered = 0;
  for (int r = 0; r < kRepetitions; ++r) {
    Values sample(40);
    for (double& v : sample) {
      v = exponential(random);
    }
    const Interval i = bootstrapBca(sample, meanOf, random, {.resamples = 400});
    EXPECT_LE(i.low, i.estimate);
    EXPECT_GE(i.high, i.estimate);
    covered += (i.low <= 1 && 1 <= i.high) ? 1 : 0;
  }
  EXPECT_GE(covered, 0.87 * kRepetitions);
  EXPECT_LE(covered, 0.99 * kRepetitions);
}

TEST(BootstrapTest, TwoSampleDifferenceOfMeansSeparatesDistinctMeans) {
  Random random(5);
  const Values a = normalSample(random, 200, 10, 1);
  const Values b = normalSample(random, 200, 9, 1);
  auto difference = [](std::span<double> x, std::span<double> y) { return mean(x) - mean(y); };
  const Interval i = bootstrapPercentile(a, b, difference, random, {.resamples = 500});
  EXPECT_GT(i.low, 0);
  EXPECT_LT(i.low, 1);
  EXPECT_GT(i.high, 1);
}

TEST(BootstrapTest, MedianStatisticMayReorderItsBuffer) {
  Random random(9);
  const Values sample = normalSample(random, 101, 0, 1);
  auto median = [](std::span<double> x) { return quantileInPlace(x, 0.5); };
  const Interval i = bootstrapPercentile(sample, median, random, {.resamples = 300});
  EXPECT_DOUBLE_EQ(i.estimate, quantile(sample, 0.5));
  EXPECT_LT(i.low, i.estimate);
  EXPECT_GT(i.high, i.estimate);
}

}  // namespace
}  // namespace dw::stats
