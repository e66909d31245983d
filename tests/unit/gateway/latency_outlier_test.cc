#include "gateway/latency_outlier.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

namespace dw::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

OutlierConfig config(double factor = 3, Duration floor = milliseconds(500), int min_requests = 5) {
  OutlierConfig c;
  c.latency_factor = factor;
  c.latency_min = floor;
  c.latency_min_requests = min_requests;
  return c;
}

LatencyCandidate replica(double seconds, uint32_t samples = 20, bool in_rotation = true) {
  return {seconds, samples, in_rotation};
}

std::vector<LatencyEjection> evaluate(const std::vector<LatencyCandidate>& version,
                                      const OutlierConfig& c, int allowed = 1) {
  LatencyDetector detector;
  std::vector<LatencyEjection> out;
  detector.evaluate(version, c, allowed, &out);
  return out;
}

TEST(LatencyEwmaTest, AveragesTheFirstSamplesPlainlyThenWeighsTheNewestByAlpha) {
  LatencyEwma ewma;
  EXPECT_EQ(ewma.samples(), 0u);
  ewma.add(1.0);
  EXPECT_DOUBLE_EQ(ewma.seconds(), 1.0);  // One sample is its own mean.
  ewma.add(3.0);
  EXPECT_DOUBLE_EQ(ewma.seconds(), 2.0);
  ewma.add(2.0);
  ewma.add(2.0);
  ewma.add(2.0);
  EXPECT_DOUBLE_EQ(ewma.seconds(), 2.0);  // Five samples: still their plain mean.
  ewma.add(12.0);
  EXPECT_DOUBLE_EQ(ewma.seconds(), 2.0 + LatencyEwma::kAlpha * 10.0);
  EXPECT_EQ(ewma.samples(), 6u);
}

TEST(LatencyEwmaTest, ForgetsOldAnswersAndResetsToNothing) {
  LatencyEwma ewma;
  for (int i = 0; i < 10; ++i) {
    ewma.add(1.5);  // A slow spell...
  }
  for (int i = 0; i < 40; ++i) {
    ewma.add(0.05);  // ...then forty normal answers.
  }
  EXPECT_NEAR(ewma.seconds(), 0.05, 0.001);
  ewma.reset();
  EXPECT_EQ(ewma.samples(), 0u);
  EXPECT_EQ(ewma.seconds(), 0.0);
}

TEST(LatencyMedianTest, TakesTheMiddleOrTheMeanOfTheMiddleTwo) {
  std::vector<double> odd = {5, 1, 3};
  EXPECT_DOUBLE_EQ(median(odd), 3);
  std::vector<double> even = {4, 1, 3, 10};
  EXPECT_DOUBLE_EQ(median(even), 3.5);
  std::vector<double> one = {7};
  EXPECT_DOUBLE_EQ(median(one), 7);
  std::vector<double> none;
  EXPECT_DOUBLE_EQ(median(none), 0);
}

TEST(LatencyDetectorTest, EjectsTheReplicaAboveFactorTimesItsPeersMedianAndTheFloor) {
  // Two replicas answer in 50 ms, one in 1.5 s (the drill's injected latency).
  auto out = evaluate({replica(0.05), replica(1.5), replica(0.06)}, config());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].index, 1u);
  EXPECT_DOUBLE_EQ(out[0].seconds, 1.5);
  EXPECT_DOUBLE_EQ(out[0].peer_median, 0.055);
}

TEST(LatencyDetectorTest, KeepsAReplicaUnderTheAbsoluteFloorHoweverItComparesToItsPeers) {
  // 400 ms is 20x its peers' 20 ms, but under the 500 ms floor: fast enough for anyone.
  EXPECT_TRUE(evaluate({replica(0.02), replica(0.4), replica(0.02)}, config()).empty());
  EXPECT_EQ(
      evaluate({replica(0.02), replica(0.4), replica(0.02)}, config(3, milliseconds(200))).size(),
      1u);
}

TEST(LatencyDetectorTest, KeepsAReplicaWithinTheFactorOfItsPeers) {
  // A uniformly slow fleet is not an outlier: 2.5x is within a factor of 3.
  EXPECT_TRUE(evaluate({replica(2.0), replica(5.0), replica(2.0)}, config()).empty());
  EXPECT_EQ(evaluate({replica(2.0), replica(6.1), replica(2.0)}, config()).size(), 1u);
}

TEST(LatencyDetectorTest, JudgesNoReplicaOnFewerThanMinRequestsSamples) {
  // The slow replica has too few answers to be judged...
  EXPECT_TRUE(evaluate({replica(0.05), replica(1.5, 4), replica(0.05)}, config()).empty());
  // ...and peers with too few answers are no reference: without any, nothing is ejected.
  EXPECT_TRUE(evaluate({replica(0.05, 4), replica(1.5), replica(0.05, 4)}, config()).empty());
  EXPECT_EQ(evaluate({replica(0.05, 4), replica(1.5), replica(0.05, 5)}, config()).size(), 1u);
}

TEST(LatencyDetectorTest, ComparesOnlyWithPeersInRotation) {
  // The only fast peer is ejected (or unhealthy): its old numbers are no reference.
  EXPECT_TRUE(evaluate({replica(0.05, 20, false), replica(1.5)}, config()).empty());
  // An ejected replica is not judged again while it is out.
  EXPECT_TRUE(evaluate({replica(0.05), replica(1.5, 20, false)}, config()).empty());
}

TEST(LatencyDetectorTest, EjectsNothingInAVersionOfOneReplica) {
  EXPECT_TRUE(evaluate({replica(30.0)}, config()).empty());
}

TEST(LatencyDetectorTest, EjectsAtMostTheAllowedNumberSlowestFirst) {
  const std::vector<LatencyCandidate> version = {replica(0.05), replica(2.0), replica(0.05),
                                                 replica(4.0), replica(0.05)};
  auto one = evaluate(version, config(), 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].index, 3u);
  auto two = evaluate(version, config(), 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].index, 3u);
  EXPECT_EQ(two[1].index, 1u);
  EXPECT_TRUE(evaluate(version, config(), 0).empty());
}

TEST(LatencyDetectorTest, TwoOfThreeSlowIsNoOutlier) {
  // The median of a slow replica's peers includes the other slow one: with half the version
  // slow, the version is slow, and ejecting would only overload the fast one.
  EXPECT_TRUE(evaluate({replica(1.5), replica(1.5), replica(0.05)}, config(), 2).empty());
}

TEST(LatencyDetectorTest, FactorZeroTurnsItOff) {
  EXPECT_TRUE(evaluate({replica(0.05), replica(30.0), replica(0.05)}, config(0)).empty());
}

TEST(LatencyDetectorTest, ReusesItsScratchAcrossVersions) {
  LatencyDetector detector;
  std::vector<LatencyEjection> out;
  detector.evaluate(std::vector<LatencyCandidate>{replica(0.05), replica(1.5), replica(0.05)},
                    config(), 1, &out);
  detector.evaluate(std::vector<LatencyCandidate>{replica(0.05), replica(0.05)}, config(), 1, &out);
  ASSERT_EQ(out.size(), 1u);  // Appended to, and the second version added nothing.
  EXPECT_EQ(out[0].index, 1u);
}

TEST(OutlierBackoffTest, AllowsMaxEjectionPercentOfAVersionButAlwaysOne) {
  EXPECT_EQ(maxEjected(2, 50), 1);
  EXPECT_EQ(maxEjected(3, 50), 1);
  EXPECT_EQ(maxEjected(10, 50), 5);
  EXPECT_EQ(maxEjected(10, 0), 1);
  EXPECT_EQ(maxEjected(4, 100), 4);
}

TEST(OutlierBackoffTest, EjectionTimeGrowsWithEjectionsInARowUpToTenfold) {
  EXPECT_EQ(ejectionTime(seconds(30), 1), seconds(30));
  EXPECT_EQ(ejectionTime(seconds(30), 3), seconds(90));
  EXPECT_EQ(ejectionTime(seconds(30), 25), seconds(300));
  EXPECT_EQ(ejectionTime(seconds(30), 0), seconds(30));
}

TEST(OutlierBackoffTest, EjectionsInARowDecayByOnePerBaseEjectionInRotation) {
  EXPECT_EQ(decayedEjections(3, seconds(0), seconds(30)), 3);
  EXPECT_EQ(decayedEjections(3, seconds(29), seconds(30)), 3);
  EXPECT_EQ(decayedEjections(3, seconds(30), seconds(30)), 2);
  EXPECT_EQ(decayedEjections(3, seconds(65), seconds(30)), 1);
  EXPECT_EQ(decayedEjections(3, std::chrono::hours(1), seconds(30)), 0);
  EXPECT_EQ(decayedEjections(0, seconds(5), seconds(30)), 0);
  // Never ejected: the time since the clock's epoch is "in rotation" for ever.
  EXPECT_EQ(decayedEjections(2, std::chrono::hours(24 * 365), seconds(30)), 0);
}

}  // namespace
}  // namespace dw::gateway
