// Bootstrap confidence intervals (R6: the statistics behind an A/B verdict), with the quantile
// and normal-distribution helpers they need.
//
// The problem: the experiment score mixes a proportion, a ratio of medians and a ratio of totals,
// so no textbook formula gives its standard error. The bootstrap does: resample each sample with
// replacement, recompute the statistic, and read the interval off the replicates' quantiles.
// Randomness is injected (a Random&) so that a test with a fixed seed draws the same replicates.
//
// Thread contract: pure functions apart from the Random& they advance; call from one thread per
// Random.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "base/random.h"

namespace dw::stats {

// A point estimate with the bounds of its confidence interval. NaN throughout when the statistic
// is undefined (an empty sample, or a replicate that was not a number).
struct Interval {
  double estimate = 0;
  double low = 0;
  double high = 0;
};

struct BootstrapOptions {
  int resamples = 2000;      // Replicates; the interval's tails need about 1000 at 95%.
  double confidence = 0.95;  // Two-sided: the interval is [q(a/2), q(1 - a/2)], a = 1 - confidence.
};

// The q-quantile (q in [0, 1]) of a non-empty sample, interpolating linearly between order
// statistics: numpy.quantile's default ("linear", Hyndman and Fan type 7). Reorders `values`
// (nth_element, no allocation). Requires no NaN in `values`.
double quantileInPlace(std::span<double> values, double q);

// The same on a copy of `values`.
double quantile(std::span<const double> values, double q);

// The arithmetic mean; NaN for an empty sample.
double mean(std::span<const double> values);

// The standard normal CDF, and its inverse (requires 0 < p < 1; by bisection, exact to double
// precision, meant for the few calls an interval needs).
double normalCdf(double z);
double normalQuantile(double p);

// Fills `out` with out.size() draws with replacement from a non-empty `sample`.
void resampleInto(std::span<const double> sample, std::span<double> out, Random& random);

// The percentile interval of bootstrap `replicates` around `estimate` at two-sided `confidence`.
// Reorders `replicates`. NaN bounds when any replicate (or the estimate) is NaN.
Interval percentileInterval(double estimate, std::span<double> replicates, double confidence);

// A statistic of one sample. The span is a scratch buffer the statistic may reorder (so that a
// quantile costs no copy).
using Statistic = std::function<double(std::span<double>)>;
// A statistic of two samples, e.g. a difference of means.
using TwoSampleStatistic = std::function<double(std::span<double>, std::span<double>)>;

// The percentile bootstrap of `statistic` over one sample. Allocates one buffer of the sample's
// size and one of `resamples` doubles.
Interval bootstrapPercentile(std::span<const double> sample, const Statistic& statistic,
                             Random& random, const BootstrapOptions& options = {});

// The percentile bootstrap over two independent samples, each resampled to its own size.
Interval bootstrapPercentile(std::span<const double> a, std::span<const double> b,
                             const TwoSampleStatistic& statistic, Random& random,
                             const BootstrapOptions& options = {});

// The bias-corrected and accelerated (BCa, Efron 1987) interval over one sample: the percentile
// interval's levels shifted by the replicates' median bias (z0) and by the jackknife's skewness
// estimate (acceleration). Better coverage than the percentile interval for skewed statistics;
// costs n extra evaluations of the statistic (the jackknife).
Interval bootstrapBca(std::span<const double> sample, const Statistic& statistic, Random& random,
                      const BootstrapOptions& options = {});

}  // namespace dw::stats
