#include "control/autoscaler.h"

#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

namespace dw::control {
namespace {

using std::chrono::seconds;

const Autoscaler::TimePoint kT0{};

// Round numbers: a replica is full at 100 req/s, no headroom, so ratios are easy to read.
gateway::AutoscaleConfig plainConfig() {
  gateway::AutoscaleConfig config;
  config.enabled = true;
  config.min_replicas = 1;
  config.max_replicas = 50;
  config.target_qps = 100;
  config.headroom = 0;
  config.tolerance = 0.1;
  config.scale_down_stabilization = seconds(300);
  return config;
}

ScaleInputs inputs(int current, double qps, double queue = NAN) {
  ScaleInputs in;
  in.current = current;
  in.qps = qps;
  in.queue = queue;
  return in;
}

TEST(AutoscalerTest, ScalesUpToCeilOfCurrentTimesRatio) {
  Autoscaler autoscaler(plainConfig());
  // 4 replicas at 160 req/s each: ceil(4 x 160 / 100) = ceil(6.4) = 7.
  EXPECT_EQ(autoscaler.desired(inputs(4, 640), kT0), 7);
}

TEST(AutoscalerTest, ScaleUpTargetKeepsTheHeadroom) {
  gateway::AutoscaleConfig config = plainConfig();
  config.headroom = 0.5;  // A replica is full at 50 req/s.
  Autoscaler autoscaler(config);
  // 2 replicas at 80 req/s: below the raw target (would scale down) but above 50:
  // ceil(2 x 80 / 50) = ceil(3.2) = 4.
  EXPECT_EQ(autoscaler.desired(inputs(2, 160), kT0), 4);
}

TEST(AutoscalerTest, DefaultConfigScalesAtSeventyPercentOfTarget) {
  gateway::AutoscaleConfig config;  // target 500, headroom 0.3: full at 350 req/s.
  Autoscaler autoscaler(config);
  // 3 replicas at 420 req/s each: ceil(3 x 420 / 350) = ceil(3.6) = 4.
  EXPECT_EQ(autoscaler.desired(inputs(3, 1260), kT0), 4);
}

TEST(AutoscalerTest, RatioWithinToleranceKeepsCurrentCount) {
  Autoscaler autoscaler(plainConfig());
  // 20 replicas at 108 req/s: ratio 1.08 would give ceil(21.6) = 22 without the tolerance.
  EXPECT_EQ(autoscaler.desired(inputs(20, 20 * 108), kT0), 20);
  // At 92 req/s: ratio 0.92 would give ceil(18.4) = 19 without the tolerance.
  EXPECT_EQ(autoscaler.desired(inputs(20, 20 * 92), kT0 + seconds(15)), 20);
}

TEST(AutoscalerTest, RatioJustBeyondToleranceScalesUp) {
  Autoscaler autoscaler(plainConfig());
  // 20 replicas at 112 req/s: ratio 1.12 -> ceil(22.4) = 23.
  EXPECT_EQ(autoscaler.desired(inputs(20, 20 * 112), kT0), 23);
}

TEST(AutoscalerTest, ClampsToMaxReplicas) {
  gateway::AutoscaleConfig config = plainConfig();
  config.max_replicas = 10;
  Autoscaler autoscaler(config);
  EXPECT_EQ(autoscaler.desired(inputs(4, 100000), kT0), 10);
}

TEST(AutoscalerTest, ClampsToMinReplicasWhenIdle) {
  gateway::AutoscaleConfig config = plainConfig();
  config.min_replicas = 3;
  Autoscaler autoscaler(config);
  // No traffic would give 0; the stabilization window has no higher recommendation yet.
  EXPECT_EQ(autoscaler.desired(inputs(5, 0), kT0), 3);
}

TEST(AutoscalerTest, RaisesToMinReplicasEvenWithinTolerance) {
  gateway::AutoscaleConfig config = plainConfig();
  config.min_replicas = 2;
  Autoscaler autoscaler(config);
  // One replica exactly at target is within the tolerance, but below the minimum.
  EXPECT_EQ(autoscaler.desired(inputs(1, 100), kT0), 2);
}

TEST(AutoscalerTest, ScalesDownOnlyAfterStabilizationWindow) {
  Autoscaler autoscaler(plainConfig());
  // Steady at 6 replicas, each at its target.
  ASSERT_EQ(autoscaler.desired(inputs(6, 600), kT0), 6);
  // Traffic drops to 40 req/s per replica: the recommendation is ceil(6 x 0.4) = ceil(2.4) = 3,
  // but the recommendation of 6 at kT0 is still within the 300 s window.
  EXPECT_EQ(autoscaler.desired(inputs(6, 240), kT0 + seconds(60)), 6);
  EXPECT_EQ(autoscaler.desired(inputs(6, 240), kT0 + seconds(200)), 6);
  EXPECT_EQ(autoscaler.desired(inputs(6, 240), kT0 + seconds(300)), 6);  // Window inclusive.
  // kT0 has left the window; every recommendation still in it says 3.
  EXPECT_EQ(autoscaler.desired(inputs(6, 240), kT0 + seconds(301)), 3);
}

TEST(AutoscalerTest, ScaleDownHoldsTheHighestRecommendationOfTheWindow) {
  Autoscaler autoscaler(plainConfig());
  ASSERT_EQ(autoscaler.desired(inputs(6, 600), kT0), 6);
  // 45 req/s per replica: ceil(6 x 0.45) = ceil(2.7) = 3, held at 6.
  EXPECT_EQ(autoscaler.desired(inputs(6, 270), kT0 + seconds(100)), 6);
  // 60 req/s per replica: ceil(6 x 0.6) = ceil(3.6) = 4, held at 6.
  EXPECT_EQ(autoscaler.desired(inputs(6, 360), kT0 + seconds(200)), 6);
  // kT0 left the window; the highest in it is the 4 of kT0 + 200 s, not the current 3.
  EXPECT_EQ(autoscaler.desired(inputs(6, 270), kT0 + seconds(301)), 4);
  // Now at 4 replicas with the same 270 req/s: ceil(4 x 0.675) = ceil(2.7) = 3, held at 4.
  EXPECT_EQ(autoscaler.desired(inputs(4, 270), kT0 + seconds(401)), 4);
  // kT0 + 200 s left the window too.
  EXPECT_EQ(autoscaler.desired(inputs(4, 270), kT0 + seconds(501)), 3);
}

TEST(AutoscalerTest, ScaleUpIsImmediateEvenAfterHigherRecommendations) {
  Autoscaler autoscaler(plainConfig());
  ASSERT_EQ(autoscaler.desired(inputs(2, 200), kT0), 2);
  EXPECT_EQ(autoscaler.desired(inputs(2, 500), kT0 + seconds(1)), 5);
  EXPECT_EQ(autoscaler.desired(inputs(5, 1000), kT0 + seconds(2)), 10);
}

TEST(AutoscalerTest, StabilizationNeverScalesAboveCurrent) {
  Autoscaler autoscaler(plainConfig());
  ASSERT_EQ(autoscaler.desired(inputs(8, 1600), kT0), 16);
  // Only 6 replicas came up and the load fell: the window's 16 must not scale up from here.
  EXPECT_EQ(autoscaler.desired(inputs(6, 120), kT0 + seconds(10)), 6);
}

TEST(AutoscalerTest, TakesTheLargerOfQpsAndQueueRecommendations) {
  gateway::AutoscaleConfig config = plainConfig();
  config.target_queue = 10;
  Autoscaler autoscaler(config);
  // QPS at target (keeps 4); queue 23 per replica: ceil(4 x 2.3) = ceil(9.2) = 10.
  EXPECT_EQ(autoscaler.desired(inputs(4, 400, 23), kT0), 10);
  // QPS twice the target: 8; queue at half its target: 2. The larger wins.
  EXPECT_EQ(autoscaler.desired(inputs(4, 800, 5), kT0 + seconds(1)), 8);
}

TEST(AutoscalerTest, IgnoresUnknownQueue) {
  gateway::AutoscaleConfig config = plainConfig();
  config.target_queue = 10;
  Autoscaler autoscaler(config);
  EXPECT_EQ(autoscaler.desired(inputs(4, 400, NAN), kT0), 4);
}

TEST(AutoscalerTest, IgnoresQueueWithoutQueueTarget) {
  Autoscaler autoscaler(plainConfig());  // target_queue = 0: not a metric.
  EXPECT_EQ(autoscaler.desired(inputs(4, 400, 1000), kT0), 4);
}

TEST(AutoscalerTest, ZeroReplicasScaleToMinimum) {
  gateway::AutoscaleConfig config = plainConfig();
  config.min_replicas = 2;
  Autoscaler autoscaler(config);
  EXPECT_EQ(autoscaler.desired(inputs(0, 0), kT0), 2);
}

TEST(AutoscalerTest, ZeroReplicasWithLoadCountAsOne) {
  gateway::AutoscaleConfig config = plainConfig();
  config.min_replicas = 0;
  Autoscaler autoscaler(config);
  // 450 req/s on "one" replica: ceil(4.5) = 5.
  EXPECT_EQ(autoscaler.desired(inputs(0, 450), kT0), 5);
  // 50 req/s: ceil(0.5) = 1.
  EXPECT_EQ(autoscaler.desired(inputs(0, 50), kT0 + seconds(1)), 1);
}

TEST(AutoscalerTest, ZeroReplicasWithoutLoadStayAtZeroWhenMinIsZero) {
  gateway::AutoscaleConfig config = plainConfig();
  config.min_replicas = 0;
  Autoscaler autoscaler(config);
  EXPECT_EQ(autoscaler.desired(inputs(0, 0), kT0), 0);
}

TEST(AutoscalerTest, ZeroReplicasWithLoadAtTargetScaleToOne) {
  // With min_replicas = 0, a load within the tolerance of one replica's target still needs
  // that replica (it once returned 0 here while half the load returned 1).
  gateway::AutoscaleConfig config = plainConfig();
  config.min_replicas = 0;
  Autoscaler autoscaler(config);
  EXPECT_EQ(autoscaler.desired(inputs(0, 100), kT0), 1);
}

}  // namespace
}  // namespace dw::control
