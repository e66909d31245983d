#include "security/dp_noise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <vector>

#include "base/random.h"

namespace dw::security {
namespace {

constexpr uint64_t kOne = 1;

// Deterministic RandomBits: xoshiro256** with exact rejection, so the samplers see unbiased
// integers and every run draws the same numbers.
class SeededBits final : public RandomBits {
 public:
  explicit SeededBits(uint64_t seed) : random_(seed) {}
  uint64_t below(uint64_t bound) override {
    // [threshold, 2^64) holds a multiple of `bound` values.
    const uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const uint64_t x = random_.next();
      if (x >= threshold) {
        return x % bound;
      }
    }
  }

 private:
  Random random_;
};

// Upper quantile of chi-square with `df` degrees of freedom by the Wilson-Hilferty cube
// approximation (within 1% of the exact value for df >= 5); z is the normal quantile.
constexpr double kZ001 = 3.0902;  // p = 0.001
constexpr double kZ1e6 = 4.7534;  // p = 1e-6
double chiSquareCritical(int df, double z) {
  const double k = 2.0 / (9.0 * df);
  return df * std::pow(1 - k + z * std::sqrt(k), 3);
}

struct FitResult {
  double statistic = 0;
  int df = 0;
  double mean = 0;
  double variance = 0;
  double expected_variance = 0;
  double expected_fourth = 0;  // E[X^4] of the theoretical distribution (mean 0).
};

// Chi-square goodness of fit of `samples` against the symmetric pmf proportional to `weight` on
// [-range, range] (the mass outside must be negligible). Adjacent values are merged, from the left,
// until each bin expects >= 5 samples; a short last bin joins the one before.
FitResult fit(const std::vector<int64_t>& samples, const std::function<double(int64_t)>& weight,
              int64_t range) {
  const auto n = static_cast<double>(samples.size());
  double total = 0;
  for (int64_t x = -range; x <= range; ++x) {
    total += weight(x);
  }
  FitResult result;
  for (int64_t x = -range; x <= range; ++x) {
    const double p = weight(x) / total;
    result.expected_variance += p * static_cast<double>(x * x);
    result.expected_fourth += p * std::pow(static_cast<double>(x), 4);
  }
  // Bins: upper bound (inclusive) and expected count.
  std::vector<int64_t> upper;
  std::vector<double> expected;
  double acc = 0;
  for (int64_t x = -range; x <= range; ++x) {
    acc += n * weight(x) / total;
    if (acc >= 5) {
      upper.push_back(x);
      expected.push_back(acc);
      acc = 0;
    }
  }
  expected.back() += acc;
  upper.back() = std::numeric_limits<int64_t>::max();
  std::vector<double> observed(expected.size(), 0);
  double sum = 0;
  double sum_sq = 0;
  for (const int64_t s : samples) {
    const auto bin = std::lower_bound(upper.begin(), upper.end(), s) - upper.begin();
    observed[static_cast<size_t>(bin)] += 1;
    sum += static_cast<double>(s);
    sum_sq += static_cast<double>(s) * static_cast<double>(s);
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    result.statistic += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  }
  result.df = static_cast<int>(expected.size()) - 1;
  result.mean = sum / n;
  result.variance = sum_sq / n - result.mean * result.mean;
  return result;
}

// Mean ~ 0 and variance ~ theory, each within `z` standard errors.
void expectMoments(const FitResult& r, size_t n, double z) {
  const auto count = static_cast<double>(n);
  EXPECT_LT(std::abs(r.mean), z * std::sqrt(r.expected_variance / count));
  const double variance_se =
      std::sqrt((r.expected_fourth - r.expected_variance * r.expected_variance) / count);
  EXPECT_LT(std::abs(r.variance - r.expected_variance), z * variance_se)
      << "variance " << r.variance << " expected " << r.expected_variance;
}

std::function<double(int64_t)> laplaceWeight(double t) {
  return [t](int64_t x) { return std::exp(-std::abs(static_cast<double>(x)) / t); };
}

std::function<double(int64_t)> gaussianWeight(double sigma2) {
  return [sigma2](int64_t x) {
    const auto d = static_cast<double>(x);
    return std::exp(-d * d / (2 * sigma2));
  };
}

std::vector<int64_t> drawLaplace(Rational scale, size_t n, RandomBits& bits) {
  std::vector<int64_t> samples(n);
  for (auto& s : samples) {
    s = sampleDiscreteLaplace(scale.num, scale.den, bits);
  }
  return samples;
}

std::vector<int64_t> drawGaussian(Rational sigma2, size_t n, RandomBits& bits) {
  std::vector<int64_t> samples(n);
  for (auto& s : samples) {
    s = sampleDiscreteGaussian(sigma2.num, sigma2.den, bits);
  }
  return samples;
}

TEST(DpNoiseTest, BernoulliExpFrequencyMatchesExpOfMinusGamma) {
  SeededBits bits(7);
  constexpr int kN = 100'000;
  const Rational gammas[] = {{1, 2}, {3, 7}, {1, 1}, {5, 2}, {7, 3}, {1, kOne << 40}};
  for (const Rational g : gammas) {
    int hits = 0;
    for (int i = 0; i < kN; ++i) {
      hits += sampleBernoulliExp(g.num, g.den, bits) ? 1 : 0;
    }
    const double p = std::exp(-static_cast<double>(g.num) / static_cast<double>(g.den));
    const double se = std::sqrt(p * (1 - p) / kN);
    EXPECT_LT(std::abs(hits / static_cast<double>(kN) - p), 3.29 * se + 1e-12)
        << "gamma " << g.num << "/" << g.den;
  }
}

TEST(DpNoiseTest, BernoulliExpEdgeCases) {
  SeededBits bits(8);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(sampleBernoulliExp(0, 1, bits));              // exp(0) = 1
    ASSERT_FALSE(sampleBernoulliExp(1000, 1, bits));          // exp(-1000)
    ASSERT_FALSE(sampleBernoulliExp(~uint64_t{0}, 3, bits));  // exp(-6e18)
  }
  // A denominator past 2^63 with gamma = 1/2 exercises the one-comparison path at full width.
  int hits = 0;
  for (int i = 0; i < 20'000; ++i) {
    hits += sampleBernoulliExp(kOne << 62, kOne << 63, bits) ? 1 : 0;
  }
  EXPECT_NEAR(hits / 20'000.0, std::exp(-0.5), 4 * std::sqrt(0.61 * 0.39 / 20'000));
}

TEST(DpNoiseTest, DiscreteLaplaceScaleTwoFitsPmf) {
  SeededBits bits(1);
  constexpr size_t kN = 200'000;
  const auto samples = drawLaplace({2, 1}, kN, bits);
  const FitResult r = fit(samples, laplaceWeight(2.0), 100);
  EXPECT_GT(r.df, 20);
  EXPECT_LT(r.statistic, chiSquareCritical(r.df, kZ001)) << "df " << r.df;
  // Theory: variance 2p / (1 - p)^2 with p = e^{-1/2}.
  const double p = std::exp(-0.5);
  EXPECT_NEAR(r.expected_variance, 2 * p / ((1 - p) * (1 - p)), 1e-9);
  expectMoments(r, kN, 3.29);
}

TEST(DpNoiseTest, DiscreteLaplaceNonIntegerScaleFitsPmf) {
  // epsilon = 0.7 through the API's conversion: t = 2^30 / floor(0.7 * 2^30), just above 1/0.7.
  auto scale = laplaceScaleFor(0.7, 1);
  ASSERT_TRUE(scale.ok()) << scale.status().toString();
  const double t = static_cast<double>(scale->num) / static_cast<double>(scale->den);
  EXPECT_GE(t, 1 / 0.7);
  EXPECT_LT(t - 1 / 0.7, 1e-8);
  SeededBits bits(2);
  constexpr size_t kN = 200'000;
  const auto samples = drawLaplace(*scale, kN, bits);
  const FitResult r = fit(samples, laplaceWeight(t), 100);
  EXPECT_LT(r.statistic, chiSquareCritical(r.df, kZ001)) << "df " << r.df;
  expectMoments(r, kN, 3.29);

  // A scale below 1 (t = 3/10) puts most mass on 0 and exercises floor((U + tV) / s).
  SeededBits bits2(3);
  const auto small = drawLaplace({3, 10}, 100'000, bits2);
  const FitResult rs = fit(small, laplaceWeight(0.3), 40);
  EXPECT_LT(rs.statistic, chiSquareCritical(std::max(rs.df, 1), kZ001)) << "df " << rs.df;
}

TEST(DpNoiseTest, DiscreteGaussianFitsPmf) {
  SeededBits bits(4);
  constexpr size_t kN = 200'000;
  const auto samples = drawGaussian({9, 1}, kN, bits);  // sigma = 3
  const FitResult r = fit(samples, gaussianWeight(9.0), 80);
  EXPECT_GT(r.df, 15);
  EXPECT_LT(r.statistic, chiSquareCritical(r.df, kZ001)) << "df " << r.df;
  // The discrete Gaussian's variance is below sigma^2 by a negligible amount at sigma = 3
  // (CKS20, Section 2).
  EXPECT_NEAR(r.expected_variance, 9.0, 1e-9);
  expectMoments(r, kN, 3.29);

  // sigma^2 = 7/2: t = floor(sqrt(3.5)) + 1 = 2, a non-integer sigma^2/t in the acceptance test.
  SeededBits bits2(5);
  const auto other = drawGaussian({7, 2}, kN, bits2);
  const FitResult r2 = fit(other, gaussianWeight(3.5), 60);
  EXPECT_LT(r2.statistic, chiSquareCritical(r2.df, kZ001)) << "df " << r2.df;
  expectMoments(r2, kN, 3.29);
}

TEST(DpNoiseTest, DiscreteGaussianThroughSigmaConversionFitsPmf) {
  auto sigma2 = sigma2For(1.7);
  ASSERT_TRUE(sigma2.ok()) << sigma2.status().toString();
  const double s2 = static_cast<double>(sigma2->num) / static_cast<double>(sigma2->den);
  EXPECT_GE(s2, 1.7 * 1.7 * (1 - 1e-15));
  EXPECT_LT(s2 - 1.7 * 1.7, 1e-12);
  SeededBits bits(6);
  constexpr size_t kN = 100'000;
  const auto samples = drawGaussian(*sigma2, kN, bits);
  const FitResult r = fit(samples, gaussianWeight(s2), 40);
  EXPECT_LT(r.statistic, chiSquareCritical(r.df, kZ001)) << "df " << r.df;
  expectMoments(r, kN, 3.29);
}

TEST(DpNoiseTest, CsprngLaplaceFitsPmfLoosely) {
  // Not deterministic: the real CSPRNG, with a threshold at p = 1e-6.
  CryptoRandomBits bits;
  constexpr size_t kN = 20'000;
  const auto samples = drawLaplace({2, 1}, kN, bits);
  const FitResult r = fit(samples, laplaceWeight(2.0), 100);
  EXPECT_LT(r.statistic, chiSquareCritical(r.df, kZ1e6)) << "df " << r.df;
  expectMoments(r, kN, 4.9);
}

TEST(DpNoiseTest, AddDiscreteLaplaceNoisesEachCount) {
  SeededBits bits(9);
  const std::vector<int64_t> counts(20'000, 1000);
  auto noisy = addDiscreteLaplace(counts, 0.5, 1, bits);  // t = 2
  ASSERT_TRUE(noisy.ok()) << noisy.status().toString();
  ASSERT_EQ(noisy->size(), counts.size());
  double sum = 0;
  int unchanged = 0;
  for (const int64_t v : *noisy) {
    sum += static_cast<double>(v - 1000);
    unchanged += v == 1000 ? 1 : 0;
  }
  // Mean 0 (sd of the mean ~ 0.013); P(noise = 0) = (1 - e^-.5) / (1 + e^-.5) ~ 0.245.
  EXPECT_LT(std::abs(sum / 20'000), 0.06);
  EXPECT_NEAR(unchanged / 20'000.0, 0.2449, 0.012);
  // Sensitivity 3 triples the scale: the variance grows ninefold (t = 6: 2p/(1-p)^2 ~ 71.5).
  auto wide = addDiscreteLaplace(counts, 0.5, 3, bits);
  ASSERT_TRUE(wide.ok());
  double sum_sq = 0;
  for (const int64_t v : *wide) {
    sum_sq += static_cast<double>((v - 1000) * (v - 1000));
  }
  EXPECT_NEAR(sum_sq / 20'000, 71.5, 5);
  // Through the real CSPRNG overload.
  auto real = addDiscreteLaplace(std::span<const int64_t>(counts).first(1000), 1.0);
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->size(), 1000u);
}

TEST(DpNoiseTest, AddNoiseSaturatesAtTheInt64Range) {
  SeededBits bits(10);
  const std::vector<int64_t> extremes(200, std::numeric_limits<int64_t>::max());
  auto up = addDiscreteLaplace(extremes, 0.1, 1, bits);
  ASSERT_TRUE(up.ok());
  const std::vector<int64_t> lows(200, std::numeric_limits<int64_t>::min());
  auto down = addDiscreteGaussian(lows, 10.0, bits);
  ASSERT_TRUE(down.ok());
  bool saw_max = false;
  for (const int64_t v : *up) {
    saw_max = saw_max || v == std::numeric_limits<int64_t>::max();
  }
  EXPECT_TRUE(saw_max);
  bool saw_min = false;
  for (const int64_t v : *down) {
    saw_min = saw_min || v == std::numeric_limits<int64_t>::min();
  }
  EXPECT_TRUE(saw_min);
}

TEST(DpNoiseTest, RejectsBadEpsilonSensitivityAndSigma) {
  const std::vector<int64_t> counts{1, 2, 3};
  const double bad[] = {0.0,
                        -1.0,
                        -0.0,
                        std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(),
                        -std::numeric_limits<double>::infinity()};
  for (const double e : bad) {
    EXPECT_EQ(addDiscreteLaplace(counts, e).status().code(), StatusCode::kInvalidArgument) << e;
    EXPECT_EQ(addDiscreteGaussian(counts, e).status().code(), StatusCode::kInvalidArgument) << e;
    EXPECT_EQ(sigmaForZcdp(e).status().code(), StatusCode::kInvalidArgument) << e;
  }
  EXPECT_EQ(addDiscreteLaplace(counts, 1.0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(addDiscreteLaplace(counts, 1.0, -5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sigmaForZcdp(0.5, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(DpNoiseTest, OverflowGuardsRejectWhatDoesNotFit) {
  // Epsilon outside [2^-30, 2^20], sensitivity past 2^32, scale past 2^48.
  EXPECT_EQ(laplaceScaleFor(1e-10, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(laplaceScaleFor(std::ldexp(1.0, 21), 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(laplaceScaleFor(1.0, (int64_t{1} << 32) + 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(laplaceScaleFor(std::ldexp(1.0, -30), int64_t{1} << 32).status().code(),
            StatusCode::kInvalidArgument);                                    // scale 2^62
  EXPECT_TRUE(laplaceScaleFor(std::ldexp(1.0, -30), int64_t{1} << 18).ok());  // scale 2^48
  EXPECT_TRUE(laplaceScaleFor(std::ldexp(1.0, 20), int64_t{1} << 32).ok());
  auto one = laplaceScaleFor(1.0, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->num, 1u);
  EXPECT_EQ(one->den, 1u);

  EXPECT_FALSE(checkLaplaceParams(0, 1).ok());
  EXPECT_FALSE(checkLaplaceParams(1, 0).ok());
  EXPECT_FALSE(checkLaplaceParams((kOne << 62) + 1, kOne << 62).ok());
  EXPECT_FALSE(checkLaplaceParams(1, (kOne << 62) + 1).ok());
  EXPECT_FALSE(checkLaplaceParams((kOne << 48) + 1, 1).ok());
  EXPECT_TRUE(checkLaplaceParams(kOne << 62, kOne << 14).ok());
  EXPECT_TRUE(checkLaplaceParams(1, kOne << 62).ok());
  EXPECT_FALSE(checkGaussianParams(0, 1).ok());
  EXPECT_FALSE(checkGaussianParams(1, 0).ok());
  EXPECT_FALSE(checkGaussianParams((kOne << 48) + 1, 1).ok());
  EXPECT_FALSE(checkGaussianParams(1, (kOne << 48) + 1).ok());
  EXPECT_TRUE(checkGaussianParams(kOne << 48, kOne << 48).ok());

  EXPECT_EQ(sigma2For(std::ldexp(1.0, 24) * 1.0001).status().code(), StatusCode::kInvalidArgument);
  auto big = sigma2For(std::ldexp(1.0, 24));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->num, kOne << 48);
  EXPECT_EQ(big->den, 1u);
  auto three = sigma2For(3.0);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->num, 9u);
  EXPECT_EQ(three->den, 1u);
  auto tiny = sigma2For(1e-300);  // Rounded up to the smallest representable 2^-48.
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->num, 1u);
  EXPECT_EQ(tiny->den, kOne << 48);
  auto tenth = sigma2For(0.1);  // Rounded up, never down.
  ASSERT_TRUE(tenth.ok());
  EXPECT_GE(static_cast<long double>(tenth->num) / tenth->den, 0.1L * 0.1L * (1 - 1e-15L));

  // The samplers run at the limits without overflow (UBSan builds check the arithmetic).
  SeededBits bits(11);
  for (int i = 0; i < 50; ++i) {
    const int64_t wide = sampleDiscreteLaplace(kOne << 62, kOne << 14, bits);  // scale 2^48
    EXPECT_LT(std::abs(static_cast<double>(wide)), std::ldexp(1.0, 48) * 60);
    EXPECT_EQ(sampleDiscreteLaplace(1, kOne << 62, bits), 0);
    const int64_t g = sampleDiscreteGaussian(kOne << 48, 1, bits);  // sigma 2^24
    EXPECT_LT(std::abs(static_cast<double>(g)), std::ldexp(1.0, 24) * 10);
    EXPECT_EQ(sampleDiscreteGaussian(1, kOne << 48, bits), 0);
    const int64_t h = sampleDiscreteGaussian(kOne << 48, (kOne << 48) - 1, bits);  // sigma ~ 1
    EXPECT_LT(std::abs(h), 30);
  }
}

TEST(DpNoiseTest, SigmaForZcdpMatchesCalibration) {
  auto sigma = sigmaForZcdp(0.5, 1);  // sigma = 1 / sqrt(1) = 1
  ASSERT_TRUE(sigma.ok());
  EXPECT_GE(*sigma, 1.0);
  EXPECT_NEAR(*sigma, 1.0, 1e-12);
  auto wide = sigmaForZcdp(0.125, 4);  // 4 / sqrt(0.25) = 8
  ASSERT_TRUE(wide.ok());
  EXPECT_NEAR(*wide, 8.0, 1e-12);
}

}  // namespace
}  // namespace dw::security
