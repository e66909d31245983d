#include "stats/distance.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/random.h"

namespace dw::stats {
namespace {

using Values = std::vector<double>;

// Debian's interpreter, which has scipy (scripts/bootstrap installs python3-scipy); the python3
// on PATH may be another one without it.
constexpr const char* kPython = "/usr/bin/python3";

// Computes each case with scipy and numpy and prints one repr() per line, in case order.
constexpr const char* kReferenceScript = R"(import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def array(values):
    return np.asarray(values, dtype=float) if values else None


for case in json.load(open(sys.argv[1])):
    a = [array(x) for x in case["args"]]
    kind = case["kind"]
    if kind == "wasserstein":
        r = stats.wasserstein_distance(a[0], a[1], a[2], a[3])
    elif kind == "std":
        x, w = a[0], a[1]
        r = np.std(x) if w is None else np.sqrt(np.average((x - np.average(x, weights=w)) ** 2, weights=w))
    elif kind == "entropy":
        r = stats.entropy(a[0], a[1])
    elif kind == "js":
        r = distance.jensenshannon(a[0], a[1])
    elif kind == "psi":
        p = a[0] / a[0].sum()
        q = a[1] / a[1].sum()
        r = np.sum((p - q) * np.log(p / q))
    else:
        raise SystemExit("unknown kind " + kind)
    print(repr(float(r)))
)";

// One computation for scipy, and what this library computed for it.
struct Case {
  std::string name;
  std::string kind;  // wasserstein, std, entropy, js, psi.
  std::vector<Values> args;
  double ours = 0;
};

std::string jsonArray(const Values& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += fmt::format("{}{:.17g}", i == 0 ? "" : ",", values[i]);
  }
  return out + "]";
}

// Runs the cases through scipy. Returns false with `why` set when scipy is not available.
bool scipyAvailable(std::string* why) {
  if (::access(kPython, X_OK) != 0) {
    *why = std::string(kPython) + " is missing (scripts/bootstrap installs python3-scipy)";
    return false;
  }
  const std::string probe = std::string(kPython) + " -c 'import numpy, scipy' >/dev/null 2>&1";
  const int status = std::system(probe.c_str());
  if (status != 0) {
    *why = std::string(kPython) + " has no scipy (scripts/bootstrap installs python3-scipy)";
    return false;
  }
  return true;
}

// A fresh directory for the exchange with Python, removed at the end of the test.
class ScipyReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!scipyAvailable(&why)) {
      GTEST_SKIP() << why;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_distance_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::filesystem::remove_all(dir_);
    }
  }

  // Computes every case with scipy and compares to 1e-9 relative (absolute below 1).
  void expectScipyAgrees(const std::vector<Case>& cases) {
    std::string json = "[";
    for (size_t i = 0; i < cases.size(); ++i) {
      json += i == 0 ? "{" : ",{";
      json += "\"kind\":\"" + cases[i].kind + "\",\"args\":[";
      for (size_t a = 0; a < cases[i].args.size(); ++a) {
        json += (a == 0 ? "" : ",") + jsonArray(cases[i].args[a]);
      }
      json += "]}";
    }
    json += "]";
    const auto data = dir_ / "cases.json";
    const auto script = dir_ / "reference.py";
    std::ofstream(data) << json;
    std::ofstream(script) << kReferenceScript;

    const std::string command =
        std::string(kPython) + " " + script.string() + " " + data.string() + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      output.append(buffer, n);
    }
    const int status = ::pclose(pipe);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;

    std::istringstream lines(output);
    std::string line;
    for (const Case& c : cases) {
      ASSERT_TRUE(std::getline(lines, line)) << "no result for " << c.name << "\n" << output;
      const double theirs = std::strtod(line.c_str(), nullptr);
      ASSERT_TRUE(std::isfinite(theirs)) << c.name << ": scipy gave " << line;
      EXPECT_NEAR(c.ours, theirs, 1e-9 * std::max(1.0, std::fabs(theirs)))
          << c.name << " (" << c.kind << "): scipy gives " << line;
    }
    EXPECT_FALSE(std::getline(lines, line)) << "extra output: " << line;
  }

  std::filesystem::path dir_;
};

// Approximately normal values (Box-Muller), from a seeded generator.
Values normalSample(Random& random, size_t n, double mean, double sd) {
  Values out;
  out.reserve(n);
  while (out.size() < n) {
    const double u1 = 1.0 - random.uniform();  // (0, 1]: log stays finite.
    const double u2 = random.uniform();
    out.push_back(mean + sd * std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2));
  }
  return out;
}

// Small integers, so that values repeat within and across samples.
Values tiedSample(Random& random, size_t n, uint64_t distinct, double offset) {
  Values out(n);
  for (double& v : out) {
    v = offset + static_cast<double>(random.below(distinct));
  }
  return out;
}

Values weights(Random& random, size_t n) {
  Values out(n);
  for (double& w : out) {
    w = 0.1 + 3 * random.uniform();
  }
  return out;
}

// Counts of a histogram with `bins` bins; about a third of them left empty.
Values counts(Random& random, size_t bins) {
  Values out(bins);
  for (double& c : out) {
    c = random.uniform() < 0.35 ? 0 : static_cast<double>(random.below(50));
  }
  return out;
}

Case wassersteinCase(std::string name, const Values& u, const Values& v, const Values& uw = {},
                     const Values& vw = {}) {
  return {std::move(name), "wasserstein", {u, v, uw, vw}, wasserstein1(u, v, uw, vw)};
}

Case stdCase(std::string name, const Values& x, const Values& w = {}) {
  return {std::move(name), "std", {x, w}, standardDeviation(x, w)};
}

// KL, JS and PSI of one pair of histograms.
void addDivergenceCases(std::vector<Case>& cases, const std::string& name, const Values& p,
                        const Values& q, bool with_psi = true) {
  cases.push_back({name, "entropy", {p, q}, klDivergence(p, q)});
  cases.push_back({name, "js", {p, q}, jensenShannonDistance(p, q)});
  if (with_psi) {
    cases.push_back({name, "psi", {p, q}, populationStabilityIndex(p, q)});
  }
}

TEST_F(ScipyReferenceTest, WassersteinMatchesScipyOnNormalSamples) {
  Random random(20240601);
  const Values u = normalSample(random, 50, 0, 1);
  const Values v = normalSample(random, 80, 0.4, 1.5);
  const Values far = normalSample(random, 200, 25, 4);
  const Values one = {3.25};
  std::vector<Case> cases = {
      wassersteinCase("50 vs 80", u, v),
      wassersteinCase("80 vs 50", v, u),
      wassersteinCase("50 vs far 200", u, far),
      wassersteinCase("single value vs 80", one, v),
      wassersteinCase("single vs single", one, {-1.5}),
  };
  expectScipyAgrees(cases);
}

TEST_F(ScipyReferenceTest, WassersteinMatchesScipyOnSamplesWithTies) {
  Random random(7);
  const Values u = tiedSample(random, 60, 5, 0);
  const Values v = tiedSample(random, 90, 7, 1);
  const Values all_same = Values(40, 2.0);
  expectScipyAgrees({
      wassersteinCase("ties 60 vs 90", u, v),
      wassersteinCase("ties vs constant", u, all_same),
      wassersteinCase("constant vs constant", all_same, Values(10, 5.0)),
  });
}

TEST_F(ScipyReferenceTest, WassersteinMatchesScipyOnWeightedSamples) {
  Random random(99);
  const Values u = normalSample(random, 50, 1, 2);
  const Values v = normalSample(random, 80, -0.5, 1);
  const Values uw = weights(random, u.size());
  const Values vw = weights(random, v.size());
  const Values tied_u = tiedSample(random, 30, 4, 0);
  const Values tied_v = tiedSample(random, 45, 6, 0);
  Values sparse_w = weights(random, tied_u.size());
  for (size_t i = 0; i < sparse_w.size(); i += 3) {
    sparse_w[i] = 0;  // Zero weights: values that do not count.
  }
  expectScipyAgrees({
      wassersteinCase("both weighted", u, v, uw, vw),
      wassersteinCase("u weighted", u, v, uw, {}),
      wassersteinCase("v weighted", u, v, {}, vw),
      wassersteinCase("weighted ties with zero weights", tied_u, tied_v, sparse_w,
                      weights(random, tied_v.size())),
  });
}

TEST_F(ScipyReferenceTest, WassersteinOfLogBucketHistogramsMatchesScipy) {
  // How the aggregator uses it: the same bucket values on both sides, counts as weights.
  Random random(3);
  Values positions(40);
  for (size_t i = 0; i < positions.size(); ++i) {
    positions[i] = std::pow(1.1, static_cast<double>(i));
  }
  const Values base = counts(random, positions.size());
  const Values current = counts(random, positions.size());
  expectScipyAgrees({
      wassersteinCase("bucket histograms", positions, positions, base, current),
      stdCase("bucket histogram spread", positions, base),
  });
}

TEST_F(ScipyReferenceTest, StandardDeviationMatchesNumpy) {
  Random random(11);
  const Values x = normalSample(random, 80, 100, 7);
  const Values tied = tiedSample(random, 50, 3, -1);
  expectScipyAgrees({
      stdCase("normal 80", x),
      stdCase("normal 80 weighted", x, weights(random, x.size())),
      stdCase("ties", tied),
      stdCase("ties weighted", tied, weights(random, tied.size())),
      stdCase("constant", Values(20, 4.5)),
  });
}

TEST_F(ScipyReferenceTest, DivergencesMatchScipyOnSmoothedHistograms) {
  Random random(5);
  std::vector<Case> cases;
  for (size_t bins : {4, 20, 64}) {
    const Values p = counts(random, bins);
    const Values q = counts(random, bins);
    addDivergenceCases(cases, fmt::format("{} bins smoothed", bins), smoothed(p, 0.5),
                       smoothed(q, 0.5));
  }
  // Identical histograms: zero divergence.
  const Values same = counts(random, 20);
  addDivergenceCases(cases, "identical", smoothed(same, 0.5), smoothed(same, 0.5));
  // Proportional histograms are the same distribution.
  Values doubled = smoothed(same, 0.5);
  for (double& v : doubled) {
    v *= 2;
  }
  addDivergenceCases(cases, "proportional", smoothed(same, 0.5), doubled);
  expectScipyAgrees(cases);
}

TEST_F(ScipyReferenceTest, DivergencesMatchScipyWithEmptyBinsInP) {
  // p = 0 contributes nothing to KL; JS handles zeros on either side. (PSI is infinite there.)
  const Values p = {0, 3, 0, 7, 1};
  const Values q = {2, 1, 4, 3, 5};
  const Values r = {0, 0, 4, 1, 5};
  std::vector<Case> cases;
  addDivergenceCases(cases, "p has zeros", p, q, false);
  cases.push_back({"zeros on both sides", "js", {p, r}, jensenShannonDistance(p, r)});
  cases.push_back({"zeros on both sides", "js", {r, p}, jensenShannonDistance(r, p)});
  expectScipyAgrees(cases);
}

TEST(DistanceTest, IdenticalDistributionsAreAtZeroDistance) {
  Random random(1);
  const Values x = normalSample(random, 50, 0, 1);
  EXPECT_EQ(wasserstein1(x, x), 0.0);
  const Values h = smoothed(counts(random, 16), 0.5);
  EXPECT_NEAR(klDivergence(h, h), 0.0, 1e-15);
  EXPECT_NEAR(jensenShannonDistance(h, h), 0.0, 1e-7);
  EXPECT_NEAR(populationStabilityIndex(h, h), 0.0, 1e-15);
}

TEST(DistanceTest, KlIsInfiniteWhenQIsZeroWherePIsNot) {
  EXPECT_EQ(klDivergence(Values{1, 1}, Values{1, 0}), std::numeric_limits<double>::infinity());
  // The reverse is finite: p = 0 terms contribute nothing.
  EXPECT_NEAR(klDivergence(Values{1, 0}, Values{1, 1}), std::log(2.0), 1e-15);
  // Smoothing keeps it finite.
  EXPECT_TRUE(
      std::isfinite(klDivergence(smoothed(Values{1, 1}, 0.5), smoothed(Values{1, 0}, 0.5))));
}

TEST(DistanceTest, JensenShannonIsSymmetricAndBoundedBySqrtLn2) {
  const double bound = std::sqrt(std::log(2.0));
  // Disjoint supports reach the bound.
  EXPECT_NEAR(jensenShannonDistance(Values{1, 0}, Values{0, 1}), bound, 1e-12);
  Random random(17);
  for (int i = 0; i < 200; ++i) {
    const Values p = counts(random, 10);
    const Values q = counts(random, 10);
    if (std::accumulate(p.begin(), p.end(), 0.0) == 0 ||
        std::accumulate(q.begin(), q.end(), 0.0) == 0) {
      continue;
    }
    const double pq = jensenShannonDistance(p, q);
    const double qp = jensenShannonDistance(q, p);
    EXPECT_NEAR(pq, qp, 1e-12) << i;
    EXPECT_GE(pq, 0) << i;
    EXPECT_LE(pq, bound + 1e-12) << i;
  }
}

TEST(DistanceTest, PsiIsSymmetricAndInfiniteWhenOneSideIsEmpty) {
  const Values p = {1, 2, 3};
  const Values q = {3, 2, 1};
  EXPECT_NEAR(populationStabilityIndex(p, q), populationStabilityIndex(q, p), 1e-15);
  // (p - q) ln(p / q) with p = (1/6, 1/3, 1/2), q reversed: 2 (1/3) ln 3.
  EXPECT_NEAR(populationStabilityIndex(p, q), 2.0 / 3.0 * std::log(3.0), 1e-12);
  EXPECT_EQ(populationStabilityIndex(Values{1, 0}, Values{1, 1}),
            std::numeric_limits<double>::infinity());
}

TEST(DistanceTest, WassersteinOfShiftedSampleIsTheShift) {
  Random random(23);
  const Values x = normalSample(random, 100, 0, 1);
  Values shifted = x;
  for (double& v : shifted) {
    v += 2.5;
  }
  EXPECT_NEAR(wasserstein1(x, shifted), 2.5, 1e-12);
  EXPECT_NEAR(wasserstein1(shifted, x), 2.5, 1e-12);
}

TEST(DistanceTest, NormalizedWassersteinDividesByTheReferenceSpread) {
  // Reference {0, 4}: standard deviation 2. Current {1, 5}: distance 1.
  const Values reference = {0, 4};
  const Values current = {1, 5};
  EXPECT_NEAR(standardDeviation(reference), 2.0, 1e-15);
  EXPECT_NEAR(wasserstein1(reference, current), 1.0, 1e-15);
  EXPECT_NEAR(normalizedWasserstein(reference, current), 0.5, 1e-15);
  // The reference's spread, not the current one's.
  EXPECT_NEAR(normalizedWasserstein(current, Values{0, 9}), 2.5 / 2.0, 1e-15);
}

TEST(DistanceTest, NormalizedWassersteinUsesTheReferenceWeights) {
  // Weights {1, 3} on {0, 4}: mean 3, variance (9 + 3) / 4 = 3.
  const Values reference = {0, 4};
  const Values reference_weights = {1, 3};
  const Values current = {4};
  const double distance = wasserstein1(reference, current, reference_weights);
  EXPECT_NEAR(distance, 1.0, 1e-15);  // A quarter of the mass moves 4.
  EXPECT_NEAR(standardDeviation(reference, reference_weights), std::sqrt(3.0), 1e-15);
  EXPECT_NEAR(normalizedWasserstein(reference, current, reference_weights),
              distance / std::sqrt(3.0), 1e-15);
}

TEST(DistanceTest, NormalizedWassersteinFallsBackToPlainDistanceWithoutSpread) {
  const Values reference = {3, 3, 3};
  const Values current = {5, 6};
  EXPECT_EQ(standardDeviation(reference), 0.0);
  EXPECT_NEAR(normalizedWasserstein(reference, current), 2.5, 1e-15);
}

TEST(DistanceTest, StandardDeviationIsPopulationAndWeighted) {
  EXPECT_NEAR(standardDeviation(Values{1, 2, 3, 4}), std::sqrt(1.25), 1e-15);
  // Integer weights are repetitions.
  EXPECT_NEAR(standardDeviation(Values{1, 2}, Values{2, 1}), standardDeviation(Values{1, 1, 2}),
              1e-15);
  EXPECT_EQ(standardDeviation(Values{}), 0.0);
}

TEST(DistanceTest, SmoothedAddsEpsilonToEveryBin) {
  EXPECT_EQ(smoothed(Values{0, 1, 5}, 0.5), (Values{0.5, 1.5, 5.5}));
  EXPECT_TRUE(smoothed(Values{}, 0.5).empty());
}

}  // namespace
}  // namespace dw::stats
