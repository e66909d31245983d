#include "stats/distance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace dw::stats {
namespace {

std::vector<double> normalized(std::span<const double> x) {
  const double total = std::accumulate(x.begin(), x.end(), 0.0);
  std::vector<double> out(x.begin(), x.end());
  if (total > 0) {
    for (double& v : out) {
      v /= total;
    }
  }
  return out;
}

// The CDF of a weighted sample at every point of `grid` (right-continuous, as numpy's
// searchsorted(side='right') gives it), divided by the total weight.
std::vector<double> cdfAt(std::span<const double> values, std::span<const double> weights,
                          const std::vector<double>& grid) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> sorted(values.size());
  std::vector<double> cumulative(values.size());
  double running = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    sorted[i] = values[order[i]];
    running += weights.empty() ? 1.0 : weights[order[i]];
    cumulative[i] = running;
  }
  std::vector<double> cdf(grid.size());
  for (size_t i = 0; i < grid.size(); ++i) {
    const size_t n = static_cast<size_t>(std::upper_bound(sorted.begin(), sorted.end(), grid[i]) -
                                         sorted.begin());
    cdf[i] = n == 0 ? 0 : cumulative[n - 1] / running;
  }
  return cdf;
}

}  // namespace

double wasserstein1(std::span<const double> u, std::span<const double> v,
                    std::span<const double> u_weights, std::span<const double> v_weights) {
  // As scipy's _cdf_distance(p=1): integrate |U - V| over the sorted union of the values.
  std::vector<double> all(u.begin(), u.end());
  all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  if (all.size() < 2) {
    return 0;
  }
  const std::vector<double> grid(all.begin(), all.end() - 1);
  const std::vector<double> u_cdf = cdfAt(u, u_weights, grid);
  const std::vector<double> v_cdf = cdfAt(v, v_weights, grid);
  double distance = 0;
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    distance += std::fabs(u_cdf[i] - v_cdf[i]) * (all[i + 1] - all[i]);
  }
  return distance;
}

double standardDeviation(std::span<const double> values, std::span<const double> weights) {
  double total = 0;
  double mean = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    total += w;
    mean += w * values[i];
  }
  if (total <= 0) {
    return 0;
  }
  mean /= total;
  double variance = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    variance += w * (values[i] - mean) * (values[i] - mean);
  }
  return std::sqrt(variance / total);
}

double normalizedWasserstein(std::span<const double> reference, std::span<const double> current,
                             std::span<const double> reference_weights,
                             std::span<const double> current_weights) {
  const double distance = wasserstein1(reference, current, reference_weights, current_weights);
  const double spread = standardDeviation(reference, reference_weights);
  return spread > 0 ? distance / spread : distance;
}

double klDivergence(std::span<const double> p, std::span<const double> q) {
  const std::vector<double> pn = normalized(p);
  const std::vector<double> qn = normalized(q);
  double sum = 0;
  for (size_t i = 0; i < pn.size() && i < qn.size(); ++i) {
    if (pn[i] > 0) {
      if (qn[i] <= 0) {
        return std::numeric_limits<double>::infinity();
      }
      sum += pn[i] * std::log(pn[i] / qn[i]);
    }
  }
  return sum;
}

double jensenShannonDistance(std::span<const double> p, std::span<const double> q) {
  const std::vector<double> pn = normalized(p);
  const std::vector<double> qn = normalized(q);
  std::vector<double> m(pn.size());
  for (size_t i = 0; i < m.size(); ++i) {
    m[i] = (pn[i] + qn[i]) / 2;
  }
  const double divergence = (klDivergence(pn, m) + klDivergence(qn, m)) / 2;
  return std::sqrt(std::max(divergence, 0.0));
}

double populationStabilityIndex(std::span<const double> p, std::span<const double> q) {
  const std::vector<double> pn = normalized(p);
  const std::vector<double> qn = normalized(q);
  double sum = 0;
  for (size_t i = 0; i < pn.size() && i < qn.size(); ++i) {
    if (pn[i] > 0 && qn[i] > 0) {
      sum += (pn[i] - qn[i]) * std::log(pn[i] / qn[i]);
    } else if (pn[i] != qn[i]) {
      return std::numeric_limits<double>::infinity();
    }
  }
  return sum;
}

std::vector<double> smoothed(std::span<const double> counts, double epsilon) {
  std::vector<double> out(counts.begin(), counts.end());
  for (double& v : out) {
    v += epsilon;
  }
  return out;
}

}  // namespace dw::stats
