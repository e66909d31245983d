// Distances between distributions, for drift (R1.1 input shift, R1.2 label drift, R2.2 KL
// thresholds). Each matches the reference implementation it names, so that a number here means
// what it means in scipy and Evidently (tests compare against scipy on the same samples).
//
// Thread contract: pure functions.
#pragma once

#include <span>
#include <vector>

namespace dw::stats {

// scipy.stats.wasserstein_distance(u, v, u_weights, v_weights): the first Wasserstein (earth
// mover's) distance between two weighted empirical distributions, the area between their CDFs.
// Empty weights mean weight 1 for every value. Requires non-empty inputs.
double wasserstein1(std::span<const double> u, std::span<const double> v,
                    std::span<const double> u_weights = {}, std::span<const double> v_weights = {});

// The weighted standard deviation (population, ddof 0) of a sample, as numpy.std computes it.
double standardDeviation(std::span<const double> values, std::span<const double> weights = {});

// Evidently's normalised Wasserstein distance: wasserstein1(reference, current) divided by the
// reference's standard deviation (so that 0.1 means "a tenth of the usual spread"). When the
// reference has no spread, the plain distance.
double normalizedWasserstein(std::span<const double> reference, std::span<const double> current,
                             std::span<const double> reference_weights = {},
                             std::span<const double> current_weights = {});

// scipy.stats.entropy(p, q): the Kullback-Leibler divergence sum p_i log(p_i / q_i) in nats,
// after each of p and q is normalised to sum to 1. Infinite when q_i = 0 < p_i.
double klDivergence(std::span<const double> p, std::span<const double> q);

// scipy.spatial.distance.jensenshannon(p, q): the Jensen-Shannon *distance*, the square root of
// the JS divergence, natural log. Symmetric, at most sqrt(ln 2).
double jensenShannonDistance(std::span<const double> p, std::span<const double> q);

// The population stability index sum (p_i - q_i) ln(p_i / q_i) of the normalised p and q.
double populationStabilityIndex(std::span<const double> p, std::span<const double> q);

// Counts with `epsilon` added to every bin, so that divergences of histograms with empty bins
// stay finite (additive smoothing, as drift monitors apply before KL and PSI).
std::vector<double> smoothed(std::span<const double> counts, double epsilon);

}  // namespace dw::stats
