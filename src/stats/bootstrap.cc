#include "stats/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace dw::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool anyNaN(std::span<const double> values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

// The fraction of the replicates strictly below `estimate`, ties counted half: the bias
// correction's input, kept inside (0, 1) so that its normal quantile stays finite.
double fractionBelow(std::span<const double> replicates, double estimate) {
  double below = 0;
  for (double r : replicates) {
    below += r < estimate ? 1.0 : (r == estimate ? 0.5 : 0.0);
  }
  const auto n = static_cast<double>(replicates.size());
  return std::clamp(below / n, 0.5 / n, 1 - 0.5 / n);
}

}  // namespace

double quantileInPlace(std::span<double> values, double q) {
  if (values.empty()) {
    return kNaN;
  }
  const double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const auto lower = static_cast<size_t>(std::floor(position));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lower),
                   values.end());
  const double at_lower = values[lower];
  if (lower + 1 >= values.size()) {
    return at_lower;
  }
  // After nth_element everything past `lower` is at least values[lower]; the next order
  // statistic is the smallest of them.
  const double at_upper =
      *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lower) + 1, values.end());
  return at_lower + (position - static_cast<double>(lower)) * (at_upper - at_lower);
}

double quantile(std::span<const double> values, double q) {
  std::vector<double> copy(values.begin(), values.end());
  return quantileInPlace(copy, q);
}

double mean(std::span<const double> values) {
  if (values.empty()) {
    return kNaN;
  }
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double normalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double normalQuantile(double p) {
  if (!(p > 0 && p < 1)) {
    return p == 0 ? -std::numeric_limits<double>::infinity()
                  : (p == 1 ? std::numeric_limits<double>::infinity() : kNaN);
  }
  // normalCdf is increasing; 38 standard deviations cover every p a double can hold above 0.
  double low = -38;
  double high = 38;
  for (int i = 0; i < 100 && high - low > 1e-15; ++i) {
    const double middle = 0.5 * (low + high);
    (normalCdf(middle) < p ? low : high) = middle;
  }
  return 0.5 * (low + high);
}

void resampleInto(std::span<const double> sample, std::span<double> out, Random& random) {
  const uint64_t n = sample.size();
  for (double& value : out) {
    value = sample[random.below(n)];
  }
}

Interval percentileInterval(double estimate, std::span<double> replicates, double confidence) {
  if (std::isnan(estimate) || replicates.empty() || anyNaN(replicates)) {
    return {estimate, kNaN, kNaN};
  }
  const double alpha = 1 - confidence;
  const double low = quantileInPlace(replicates, alpha / 2);
  const double high = quantileInPlace(replicates, 1 - alpha / 2);
  return {estimate, low, high};
}

Interval bootstrapPercentile(std::span<const double> sample, const Statistic& statistic,
                             Random& random, const BootstrapOptions& options) {
  if (sample.empty()) {
    return {kNaN, kNaN, kNaN};
  }
  std::vector<double> buffer(sample.begin(), sample.end());
  const double estimate = statistic(buffer);
  std::vector<double> replicates(static_cast<size_t>(std::max(options.resamples, 1)));
  for (double& replicate : replicates) {
    resampleInto(sample, buffer, random);
    replicate = statistic(buffer);
  }
  return percentileInterval(estimate, replicates, options.confidence);
}

Interval bootstrapPercentile(std::span<const double> a, std::span<const double> b,
                             const TwoSampleStatistic& statistic, Random& random,
                             const BootstrapOptions& options) {
  if (a.empty() || b.empty()) {
    return {kNaN, kNaN, kNaN};
  }
  std::vector<double> buffer_a(a.begin(), a.end());
  std::vector<double> buffer_b(b.begin(), b.end());
  const double estimate = statistic(buffer_a, buffer_b);
  std::vector<double> replicates(static_cast<size_t>(std::max(options.resamples, 1)));
  for (double& replicate : replicates) {
    resampleInto(a, buffer_a, random);
    resampleInto(b, buffer_b, random);
    replicate = statistic(buffer_a, buffer_b);
  }
  return percentileInterval(estimate, replicates, options.confidence);
}

Interval bootstrapBca(std::span<const double> sample, const Statistic& statistic, Random& random,
                      const BootstrapOptions& options) {
  if (sample.size() < 2) {
    return bootstrapPercentile(sample, statistic, random, options);
  }
  std::vector<double> buffer(sample.begin(), sample.end());
  const double estimate = statistic(buffer);
  std::vector<double> replicates(static_cast<size_t>(std::max(options.resamples, 1)));
  for (double& replicate : replicates) {
    resampleInto(sample, buffer, random);
    replicate = statistic(buffer);
  }
  if (std::isnan(estimate) || anyNaN(replicates)) {
    return {estimate, kNaN, kNaN};
  }
  const double z0 = normalQuantile(fractionBelow(replicates, estimate));

  // The jackknife: the statistic with each observation left out in turn.
  const size_t n = sample.size();
  std::vector<double> jackknife(n);
  buffer.resize(n - 1);
  for (size_t i = 0; i < n; ++i) {
    std::copy(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(i), buffer.begin());
    std::copy(sample.begin() + static_cast<std::ptrdiff_t>(i) + 1, sample.end(),
              buffer.begin() + static_cast<std::ptrdiff_t>(i));
    jackknife[i] = statistic(buffer);
  }
  const double jackknife_mean = mean(jackknife);
  double sum_squares = 0;
  double sum_cubes = 0;
  for (double value : jackknife) {
    const double d = jackknife_mean - value;
    sum_squares += d * d;
    sum_cubes += d * d * d;
  }
  const double acceleration = sum_squares > 0 ? sum_cubes / (6 * std::pow(sum_squares, 1.5)) : 0.0;

  const double alpha = 1 - options.confidence;
  auto adjusted = [&](double level) {
    const double z = z0 + normalQuantile(level);
    return normalCdf(z0 + z / (1 - acceleration * z));
  };
  const double low = quantileInPlace(replicates, adjusted(alpha / 2));
  const double high = quantileInPlace(replicates, adjusted(1 - alpha / 2));
  return {estimate, low, high};
}

}  // namespace dw::stats
