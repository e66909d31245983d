#include "security/dp_noise.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>

#include "base/assert.h"
#include "security/crypto.h"

namespace dw::security {
namespace {

using U128 = unsigned __int128;
using I128 = __int128;

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

std::string formatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

// True with probability num / den, exactly. Requires num <= den and 0 < den < 2^127. A
// denominator past 64 bits is handled by comparing a lazily drawn uniform U = 0.u1u2... with the
// binary expansion of num / den, one bit at a time: U < p is decided at the first differing bit
// (two bits are needed on average).
bool bernoulliRational(U128 num, U128 den, RandomBits& bits) {
  if (num >= den) {
    return true;
  }
  if (num == 0) {
    return false;
  }
  if (den <= std::numeric_limits<uint64_t>::max()) {
    return bits.below(static_cast<uint64_t>(den)) < static_cast<uint64_t>(num);
  }
  U128 rest = num;  // The expansion still to come is rest / den; rest < den < 2^127.
  uint64_t chunk = 0;
  int chunk_bits = 0;
  for (;;) {
    if (chunk_bits == 0) {
      chunk = bits.below(uint64_t{1} << 32);
      chunk_bits = 32;
    }
    const unsigned u = static_cast<unsigned>(chunk & 1);
    chunk >>= 1;
    --chunk_bits;
    rest <<= 1;
    unsigned p = 0;
    if (rest >= den) {
      rest -= den;
      p = 1;
    }
    if (u != p) {
      return u < p;
    }
  }
}

// CKS20 Algorithm 1 for gamma = num / den in [0, 1]: K counts the successes of Bernoulli(gamma/k)
// for k = 1, 2, ... until the first failure; P(K odd) = exp(-gamma). Bernoulli(gamma / k) is
// drawn as Bernoulli(1 / k) AND Bernoulli(gamma), so no product den * k is ever formed.
bool bernoulliExpUnit(U128 num, U128 den, RandomBits& bits) {
  uint64_t k = 1;
  for (;;) {
    const bool success = (k == 1 || bits.below(k) == 0) && bernoulliRational(num, den, bits);
    if (!success) {
      break;
    }
    ++k;
  }
  return k % 2 == 1;
}

// CKS20 Algorithm 1 for any gamma = num / den >= 0: exp(-gamma) = exp(-1)^floor(gamma) *
// exp(-frac(gamma)). The loop over floor(gamma) stops at the first failure, so it runs
// 1 / (1 - e^-1) ~ 1.6 times on average whatever gamma is. Requires den < 2^127.
bool bernoulliExp(U128 num, U128 den, RandomBits& bits) {
  if (num <= den) {
    return bernoulliExpUnit(num, den, bits);
  }
  const U128 whole = num / den;
  for (U128 i = 0; i < whole; ++i) {
    if (!bernoulliExpUnit(1, 1, bits)) {
      return false;
    }
  }
  return bernoulliExpUnit(num % den, den, bits);
}

// The largest k with k^2 * b <= a, by bisection on integers; requires a, b <= 2^48, b > 0, so
// k <= 2^24 and k^2 * b <= 2^96.
uint64_t floorSqrtRatio(uint64_t a, uint64_t b) {
  uint64_t lo = 0;                        // lo^2 * b <= a
  uint64_t hi = (uint64_t{1} << 24) + 1;  // hi^2 * b > a
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (static_cast<U128>(mid) * mid * b <= a) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

Rational reduced(uint64_t num, uint64_t den) {
  const uint64_t g = std::gcd(num, den);
  return Rational{num / g, den / g};
}

}  // namespace

uint64_t CryptoRandomBits::below(uint64_t bound) { return randomBelow(bound); }

Status checkLaplaceParams(uint64_t scale_num, uint64_t scale_den) {
  if (scale_num == 0 || scale_den == 0 || scale_num > kMaxLaplaceTerm ||
      scale_den > kMaxLaplaceTerm) {
    return invalidArgument("discrete Laplace scale " + std::to_string(scale_num) + "/" +
                           std::to_string(scale_den) + ": both terms must be in [1, 2^62]");
  }
  if (static_cast<U128>(scale_num) > static_cast<U128>(kMaxLaplaceScale) * scale_den) {
    return invalidArgument("discrete Laplace scale " + std::to_string(scale_num) + "/" +
                           std::to_string(scale_den) + " is above 2^48");
  }
  return okStatus();
}

Status checkGaussianParams(uint64_t sigma2_num, uint64_t sigma2_den) {
  if (sigma2_num == 0 || sigma2_den == 0 || sigma2_num > kMaxSigma2Term ||
      sigma2_den > kMaxSigma2Term) {
    return invalidArgument("discrete Gaussian sigma^2 " + std::to_string(sigma2_num) + "/" +
                           std::to_string(sigma2_den) + ": both terms must be in [1, 2^48]");
  }
  return okStatus();
}

bool sampleBernoulliExp(uint64_t gamma_num, uint64_t gamma_den, RandomBits& bits) {
  // A zero denominator is a caller bug (the header states the requirement).
  DW_RELEASE_ASSERT(gamma_den > 0);
  return bernoulliExp(gamma_num, gamma_den, bits);
}

// CKS20 Algorithm 2 with t = scale_num, s = scale_den: U + t * V is geometric with ratio
// e^{-1/t} (U uniform below t kept with probability e^{-U/t}, V geometric with ratio e^{-1}), so
// Y = floor((U + tV) / s) is geometric with ratio e^{-s/t}; a random sign, with the duplicate
// zero rejected, gives the discrete Laplace with scale t/s.
int64_t sampleDiscreteLaplace(uint64_t scale_num, uint64_t scale_den, RandomBits& bits) {
  // Callers check the parameters first (addDiscreteLaplace, sampleDiscreteGaussian).
  DW_RELEASE_ASSERT(checkLaplaceParams(scale_num, scale_den).ok());
  for (;;) {
    const uint64_t u = bits.below(scale_num);
    if (!bernoulliExpUnit(u, scale_num, bits)) {
      continue;
    }
    uint64_t v = 0;
    while (bernoulliExpUnit(1, 1, bits)) {
      ++v;
    }
    // u < 2^62 and t * v < 2^62 * 2^64: the sum fits 128 bits.
    const U128 x = static_cast<U128>(u) + static_cast<U128>(scale_num) * v;
    const U128 y = x / scale_den;
    const bool negative = bits.below(2) == 1;
    if (negative && y == 0) {
      continue;
    }
    if (y > kInt64Max) {
      continue;  // Conditioning on |Y| < 2^63: mass below e^{-2^14} for a scale <= 2^48.
    }
    const auto magnitude = static_cast<int64_t>(y);
    return negative ? -magnitude : magnitude;
  }
}

// CKS20 Algorithm 3: a discrete Laplace proposal with t = floor(sigma) + 1, accepted with
// probability exp(-(|Y| - sigma^2/t)^2 / (2 sigma^2)). With sigma^2 = a/b that exponent is the
// rational (|Y| b t - a)^2 / (2 a b t^2), computed in 128-bit integers:
//   a, b <= 2^48 and t <= sqrt(a/b) + 1 give b t <= 2^49 and 2 a b t^2 <= 8 max(a, b)^2 <= 2^99;
//   |Y| < 2^63 gives |m| = ||Y| b t - a| < 2^113.
// When |m| >= 2^63 the numerator m^2 would not fit, but then the exponent is at least
// 2^126 / 2^99 = 2^27 and the proposal is rejected: the exact algorithm would accept it with
// probability below e^{-2^27}.
int64_t sampleDiscreteGaussian(uint64_t sigma2_num, uint64_t sigma2_den, RandomBits& bits) {
  // Callers check the parameters first (addDiscreteGaussian).
  DW_RELEASE_ASSERT(checkGaussianParams(sigma2_num, sigma2_den).ok());
  const uint64_t a = sigma2_num;
  const uint64_t b = sigma2_den;
  const uint64_t t = floorSqrtRatio(a, b) + 1;
  const U128 bt = static_cast<U128>(b) * t;
  const U128 den = static_cast<U128>(2) * a * b * t * t;
  for (;;) {
    const int64_t y = sampleDiscreteLaplace(t, 1, bits);
    // |y| < 2^63 (sampleDiscreteLaplace's conditioning), so the negation cannot overflow.
    const U128 abs_y = static_cast<U128>(y < 0 ? -y : y);
    const I128 m = static_cast<I128>(abs_y * bt) - static_cast<I128>(a);
    const U128 abs_m = static_cast<U128>(m < 0 ? -m : m);
    if (abs_m >= (static_cast<U128>(1) << 63)) {
      continue;
    }
    if (bernoulliExp(abs_m * abs_m, den, bits)) {
      return y;
    }
  }
}

StatusOr<Rational> laplaceScaleFor(double epsilon, int64_t sensitivity) {
  if (!std::isfinite(epsilon) || epsilon <= 0) {
    return invalidArgument("epsilon must be a finite number > 0, got " + formatDouble(epsilon));
  }
  if (epsilon < kMinEpsilon || epsilon > kMaxEpsilon) {
    return invalidArgument("epsilon " + formatDouble(epsilon) + " is outside [2^-30, 2^20]");
  }
  if (sensitivity < 1 || sensitivity > kMaxSensitivity) {
    return invalidArgument("sensitivity must be in [1, 2^32], got " + std::to_string(sensitivity));
  }
  // ldexp is exact and floor is exact, so eps_num / 2^30 <= epsilon: the noise is calibrated to
  // an epsilon no larger than the one asked for. epsilon <= 2^20 gives eps_num <= 2^50.
  const auto eps_num = static_cast<uint64_t>(std::floor(std::ldexp(epsilon, 30)));
  const Rational scale = reduced(static_cast<uint64_t>(sensitivity) * kEpsilonDenominator, eps_num);
  DW_RETURN_IF_ERROR(checkLaplaceParams(scale.num, scale.den));
  return scale;
}

StatusOr<Rational> sigma2For(double sigma) {
  if (!std::isfinite(sigma) || sigma <= 0) {
    return invalidArgument("sigma must be a finite number > 0, got " + formatDouble(sigma));
  }
  if (sigma > kMaxSigma) {
    return invalidArgument("sigma " + formatDouble(sigma) + " is above 2^24");
  }
  // sigma = mantissa * 2^exponent exactly, mantissa < 2^53; sigma^2 = mantissa^2 * 2^(2 exponent).
  int exponent = 0;
  const double fraction = std::frexp(sigma, &exponent);
  const auto mantissa = static_cast<uint64_t>(std::ldexp(fraction, 53));
  exponent -= 53;
  const U128 square = static_cast<U128>(mantissa) * mantissa;  // < 2^106
  // The finest denominator 2^k (k <= 48) whose numerator ceil(sigma^2 * 2^k) is <= 2^48.
  for (int k = 48; k >= 0; --k) {
    const int shift = 2 * exponent + k;
    U128 numerator = 0;
    if (shift >= 0) {
      // sigma^2 * 2^k <= 2^48 * 2^48 here, so the shift cannot overflow.
      if (shift > 127 - 106) {
        continue;
      }
      numerator = square << shift;
    } else if (-shift >= 128) {
      numerator = 1;  // ceil of a value in (0, 1).
    } else {
      const U128 unit = static_cast<U128>(1) << -shift;
      numerator = (square + unit - 1) >> -shift;
    }
    if (numerator <= kMaxSigma2Term) {
      return reduced(static_cast<uint64_t>(numerator), uint64_t{1} << k);
    }
  }
  return invalidArgument("sigma " + formatDouble(sigma) + " does not fit the sigma^2 limits");
}

StatusOr<double> sigmaForZcdp(double rho, int64_t sensitivity) {
  if (!std::isfinite(rho) || rho <= 0) {
    return invalidArgument("rho must be a finite number > 0, got " + formatDouble(rho));
  }
  if (sensitivity < 1 || sensitivity > kMaxSensitivity) {
    return invalidArgument("sensitivity must be in [1, 2^32], got " + std::to_string(sensitivity));
  }
  const double sigma = static_cast<double>(sensitivity) / std::sqrt(2 * rho);
  // One step up absorbs the rounding of the division and the square root (conservative).
  return std::nextafter(sigma, std::numeric_limits<double>::infinity());
}

StatusOr<std::vector<int64_t>> addDiscreteLaplace(std::span<const int64_t> counts, double epsilon,
                                                  int64_t sensitivity, RandomBits& bits) {
  DW_ASSIGN_OR_RETURN(const Rational scale, laplaceScaleFor(epsilon, sensitivity));
  std::vector<int64_t> noisy;
  noisy.reserve(counts.size());
  for (const int64_t count : counts) {
    noisy.push_back(saturatingAdd(count, sampleDiscreteLaplace(scale.num, scale.den, bits)));
  }
  return noisy;
}

StatusOr<std::vector<int64_t>> addDiscreteLaplace(std::span<const int64_t> counts, double epsilon,
                                                  int64_t sensitivity) {
  CryptoRandomBits bits;
  return addDiscreteLaplace(counts, epsilon, sensitivity, bits);
}

StatusOr<std::vector<int64_t>> addDiscreteGaussian(std::span<const int64_t> counts, double sigma,
                                                   RandomBits& bits) {
  DW_ASSIGN_OR_RETURN(const Rational sigma2, sigma2For(sigma));
  DW_RETURN_IF_ERROR(checkGaussianParams(sigma2.num, sigma2.den));
  std::vector<int64_t> noisy;
  noisy.reserve(counts.size());
  for (const int64_t count : counts) {
    noisy.push_back(saturatingAdd(count, sampleDiscreteGaussian(sigma2.num, sigma2.den, bits)));
  }
  return noisy;
}

StatusOr<std::vector<int64_t>> addDiscreteGaussian(std::span<const int64_t> counts, double sigma) {
  CryptoRandomBits bits;
  return addDiscreteGaussian(counts, sigma, bits);
}

}  // namespace dw::security
