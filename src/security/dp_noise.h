// Differential-privacy noise for aggregates that leave the system (R7): discrete Laplace and
// discrete Gaussian noise added to integer counts, sampled exactly with integer and rational
// arithmetic from OpenSSL's CSPRNG.
//
// Why discrete and exact: textbook Laplace sampling on doubles (inverse CDF, log of a uniform
// double) leaks the true value through the set of reachable low-order bits (Mironov, CCS 2012),
// which breaks DP outright. The samplers here follow Canonne, Kamath and Steinke, "The Discrete
// Gaussian for Differential Privacy" (2020), Algorithms 1-3: every decision is a comparison of a
// uniform integer against an exact rational, so the output distribution is exactly the stated one
// (up to the documented events of probability below 2^-1000, see the limits below), and every
// output is an integer whatever the input. docs/design/privacy.md has the design.
//
// Parameters as doubles are converted to rationals before sampling, always in the conservative
// direction (more noise, never less):
//   - epsilon -> floor(epsilon * 2^30) / 2^30 (kEpsilonDenominator), so the noise is calibrated to
//     an epsilon' <= epsilon; epsilon must be in [2^-30, 2^20].
//   - sigma -> sigma^2 rounded up to a rational a / 2^k with a, 2^k <= 2^48 (exact: from the
//     double's mantissa and exponent, no floating-point product).
//
// Thread contract: the free functions are thread-safe (the CSPRNG is). A RandomBits is used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace dw::security {

// A source of uniform integers; tests inject a seeded one so samples are reproducible.
class RandomBits {
 public:
  virtual ~RandomBits() = default;
  // Uniform in [0, bound), without bias; requires bound > 0.
  virtual uint64_t below(uint64_t bound) = 0;
};

// RandomBits over OpenSSL's CSPRNG (security/crypto.h randomBelow). What production uses.
class CryptoRandomBits final : public RandomBits {
 public:
  uint64_t below(uint64_t bound) override;
};

// Denominator of the rational that epsilon is rounded down to.
inline constexpr uint64_t kEpsilonDenominator = uint64_t{1} << 30;
inline constexpr double kMinEpsilon = 1.0 / static_cast<double>(kEpsilonDenominator);
inline constexpr double kMaxEpsilon = static_cast<double>(uint64_t{1} << 20);
// Largest sensitivity accepted (keeps sensitivity * 2^30 below 2^62).
inline constexpr int64_t kMaxSensitivity = int64_t{1} << 32;
// Limits of the rational parameters of the samplers (see check*Params below).
inline constexpr uint64_t kMaxLaplaceTerm = uint64_t{1} << 62;   // scale_num, scale_den
inline constexpr uint64_t kMaxLaplaceScale = uint64_t{1} << 48;  // scale_num / scale_den
inline constexpr uint64_t kMaxSigma2Term = uint64_t{1} << 48;    // sigma2_num, sigma2_den
// Largest sigma accepted by addDiscreteGaussian (sigma^2 <= 2^48).
inline constexpr double kMaxSigma = static_cast<double>(uint64_t{1} << 24);

// Adds discrete Laplace noise with scale sensitivity/epsilon to each count: P(noise = x) is
// proportional to exp(-|x| * epsilon / sensitivity), which makes a release of counts whose L1
// sensitivity is `sensitivity` epsilon-DP. Each count gets fresh noise; a sum that would pass the
// int64 range saturates (post-processing, so DP is kept).
// Errors: invalidArgument for epsilon <= 0, NaN, inf, outside [kMinEpsilon, kMaxEpsilon], or for
// sensitivity outside [1, kMaxSensitivity], or a scale above kMaxLaplaceScale.
StatusOr<std::vector<int64_t>> addDiscreteLaplace(std::span<const int64_t> counts, double epsilon,
                                                  int64_t sensitivity = 1);
// The same with an injected source of randomness (tests).
StatusOr<std::vector<int64_t>> addDiscreteLaplace(std::span<const int64_t> counts, double epsilon,
                                                  int64_t sensitivity, RandomBits& bits);

// Adds discrete Gaussian noise N_Z(0, sigma^2) to each count: P(noise = x) is proportional to
// exp(-x^2 / (2 sigma^2)). Calibration is left to the caller and stated in zCDP (CKS20, Section 2):
// for counts with L2 sensitivity D the release is rho-zCDP with rho = D^2 / (2 sigma^2), so
// sigma = D / sqrt(2 rho); zCDP implies (rho + 2 sqrt(rho ln(1/delta)), delta)-DP for every
// delta > 0. sigmaForZcdp() computes sigma from (rho, D).
// Errors: invalidArgument for sigma <= 0, NaN, inf or above kMaxSigma.
StatusOr<std::vector<int64_t>> addDiscreteGaussian(std::span<const int64_t> counts, double sigma);
StatusOr<std::vector<int64_t>> addDiscreteGaussian(std::span<const int64_t> counts, double sigma,
                                                   RandomBits& bits);
// sigma = sensitivity / sqrt(2 rho), for rho > 0 finite and sensitivity >= 1. The floating-point
// result is only a parameter; addDiscreteGaussian rounds sigma^2 up exactly.
StatusOr<double> sigmaForZcdp(double rho, int64_t sensitivity = 1);

// The conversions used above, exposed for tests. Both reduce the fraction.
struct Rational {
  uint64_t num = 0;
  uint64_t den = 1;
};
// scale = sensitivity / floor(epsilon * 2^30) * 2^30, with the checks of addDiscreteLaplace.
StatusOr<Rational> laplaceScaleFor(double epsilon, int64_t sensitivity);
// sigma^2 rounded up to a / 2^k with a, 2^k <= kMaxSigma2Term, with the checks of
// addDiscreteGaussian.
StatusOr<Rational> sigma2For(double sigma);

// Parameter checks of the samplers: invalidArgument when a term is 0 or past its limit. The
// limits keep every intermediate product inside 128-bit integers.
Status checkLaplaceParams(uint64_t scale_num, uint64_t scale_den);
Status checkGaussianParams(uint64_t sigma2_num, uint64_t sigma2_den);

// Samplers (CKS20 Algorithms 1-3). They require parameters that pass the checks above
// (DW_RELEASE_ASSERT: a bad parameter here is a programming error; the Status-returning
// functions above check first).
//
// Returns true with probability exp(-gamma_num / gamma_den); requires gamma_den > 0.
bool sampleBernoulliExp(uint64_t gamma_num, uint64_t gamma_den, RandomBits& bits);
// A sample of the discrete Laplace with scale t = scale_num / scale_den:
// P(x) = (1 - e^{-1/t}) / (1 + e^{-1/t}) * e^{-|x|/t}. Outputs are conditioned on |x| < 2^63;
// with t <= 2^48 the excluded mass is below e^{-2^14}.
int64_t sampleDiscreteLaplace(uint64_t scale_num, uint64_t scale_den, RandomBits& bits);
// A sample of the discrete Gaussian with variance parameter sigma^2 = sigma2_num / sigma2_den:
// P(x) proportional to e^{-x^2 / (2 sigma^2)}. One acceptance test is cut short when its
// exponent is provably above 2^27; the distribution differs from the exact one by less than
// e^{-2^27} in total variation.
int64_t sampleDiscreteGaussian(uint64_t sigma2_num, uint64_t sigma2_den, RandomBits& bits);

}  // namespace dw::security
