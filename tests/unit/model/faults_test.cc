#include "model/faults.h"

#include <algorithm>
#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/random.h"

namespace dw::model {
namespace {

using std::chrono::milliseconds;

Faults applied(std::string_view body, const Faults& current = Faults(), bool* crash = nullptr) {
  bool crash_now = false;
  StatusOr<Faults> result = applyFaultJson(current, body, &crash_now);
  EXPECT_TRUE(result.ok()) << body << ": " << result.status().toString();
  if (crash != nullptr) {
    *crash = crash_now;
  }
  return result.ok() ? *result : Faults();
}

void expectRejected(std::string_view body) {
  bool crash_now = false;
  StatusOr<Faults> result = applyFaultJson(Faults(), body, &crash_now);
  EXPECT_FALSE(result.ok()) << "accepted " << body;
  if (!result.ok()) {
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << body;
  }
  EXPECT_FALSE(crash_now) << body;
}

TEST(ApplyFaultJsonTest, SetsLatencyFromDurationStringOrMilliseconds) {
  EXPECT_EQ(applied(R"({"latency":"200ms"})").latency, milliseconds(200));
  EXPECT_EQ(applied(R"({"latency":"1.5s"})").latency, milliseconds(1500));
  EXPECT_EQ(applied(R"({"latency":150})").latency, milliseconds(150));
  EXPECT_EQ(applied(R"({"latency":0.5})").latency, std::chrono::microseconds(500));
  EXPECT_EQ(applied(R"({"jitter":"20ms"})").jitter, milliseconds(20));
  expectRejected(R"({"latency":"fast"})");
  expectRejected(R"({"latency":-5})");
  expectRejected(R"({"latency":true})");
}

TEST(ApplyFaultJsonTest, SetsDistribution) {
  EXPECT_EQ(applied(R"({"distribution":"exponential"})").distribution,
            LatencyDistribution::kExponential);
  EXPECT_EQ(applied(R"({"distribution":"uniform"})").distribution, LatencyDistribution::kUniform);
  expectRejected(R"({"distribution":"poisson"})");
  expectRejected(R"({"distribution":1})");
}

TEST(ApplyFaultJsonTest, ErrorRateMustBeBetweenZeroAndOne) {
  EXPECT_DOUBLE_EQ(applied(R"({"error_rate":0.25})").error_rate, 0.25);
  EXPECT_DOUBLE_EQ(applied(R"({"error_rate":0})").error_rate, 0.0);
  EXPECT_DOUBLE_EQ(applied(R"({"error_rate":1})").error_rate, 1.0);
  expectRejected(R"({"error_rate":1.5})");
  expectRejected(R"({"error_rate":-0.1})");
  expectRejected(R"({"error_rate":"half"})");
}

TEST(ApplyFaultJsonTest, ErrorStatusMustBeAnHttpErrorStatus) {
  EXPECT_EQ(applied(R"({"error_status":503})").error_status, 503);
  EXPECT_EQ(applied(R"({"error_status":400})").error_status, 400);
  EXPECT_EQ(applied(R"({"error_status":599})").error_status, 599);
  expectRejected(R"({"error_status":399})");
  expectRejected(R"({"error_status":600})");
  expectRejected(R"({"error_status":200})");
  expectRejected(R"({"error_status":500.5})");
}

TEST(ApplyFaultJsonTest, CrashNowSetsFlagWithoutChangingFaults) {
  bool crash_now = false;
  Faults faults = applied(R"({"crash":"now"})", Faults(), &crash_now);
  EXPECT_TRUE(crash_now);
  EXPECT_EQ(faults.crash_after, 0);
}

TEST(ApplyFaultJsonTest, CrashAfterCountsRequests) {
  bool crash_now = true;
  Faults faults = applied(R"({"crash":{"after":3}})", Faults(), &crash_now);
  EXPECT_FALSE(crash_now);
  EXPECT_EQ(faults.crash_after, 3);
  expectRejected(R"({"crash":"later"})");
  expectRejected(R"({"crash":{"after":-1}})");
  expectRejected(R"({"crash":{}})");
  expectRejected(R"({"crash":true})");
}

TEST(ApplyFaultJsonTest, HangAndQuality) {
  EXPECT_TRUE(applied(R"({"hang":true})").hang);
  Faults hanging;
  hanging.hang = true;
  EXPECT_FALSE(applied(R"({"hang":false})", hanging).hang);
  EXPECT_TRUE(applied(R"({"unavailable":true})").unavailable);
  expectRejected(R"({"hang":"yes"})");
  EXPECT_EQ(applied(R"({"quality":"degraded"})").quality, Quality::kDegraded);
  EXPECT_EQ(applied(R"({"quality":"normal"})").quality, Quality::kNormal);
  expectRejected(R"({"quality":"awful"})");
  expectRejected(R"({"quality":0})");
}

TEST(ApplyFaultJsonTest, KeepsFieldsNotMentioned) {
  Faults current;
  current.latency = milliseconds(50);
  current.error_rate = 0.5;
  Faults faults = applied(R"({"hang":true})", current);
  EXPECT_EQ(faults.latency, milliseconds(50));
  EXPECT_DOUBLE_EQ(faults.error_rate, 0.5);
  EXPECT_TRUE(faults.hang);
}

TEST(ApplyFaultJsonTest, ClearResetsEverythingBeforeApplyingTheRest) {
  Faults current;
  current.latency = milliseconds(50);
  current.error_rate = 0.5;
  current.error_status = 503;
  current.crash_after = 2;
  current.hang = true;
  current.quality = Quality::kDegraded;
  current.distribution = LatencyDistribution::kNormal;
  Faults cleared = applied(R"({"clear":true})", current);
  EXPECT_EQ(cleared.latency, Duration::zero());
  EXPECT_DOUBLE_EQ(cleared.error_rate, 0.0);
  EXPECT_EQ(cleared.error_status, 500);
  EXPECT_EQ(cleared.crash_after, 0);
  EXPECT_FALSE(cleared.hang);
  EXPECT_EQ(cleared.quality, Quality::kNormal);
  EXPECT_EQ(cleared.distribution, LatencyDistribution::kFixed);

  // "clear" applies first wherever it appears in the body.
  Faults relatched = applied(R"({"latency":"5ms","clear":true})", current);
  EXPECT_EQ(relatched.latency, milliseconds(5));
  EXPECT_FALSE(relatched.hang);

  EXPECT_TRUE(applied(R"({"clear":false})", current).hang);
  expectRejected(R"({"clear":"yes"})");
}

// Bug: durationField (src/model/faults.cc) converts a numeric latency with
// static_cast<int64_t>(ms * 1e6) and no upper bound; {"latency":1e20} is accepted and yields
// latency = INT64_MIN ns (undefined behaviour, a negative latency), where the string form
// rejects anything above 1e18 ns as too large. Enable once fixed.
TEST(ApplyFaultJsonTest, RejectsNumericLatencyTooLargeForADuration) {
  expectRejected(R"({"latency":1e20})");
  expectRejected(R"({"jitter":1e20})");
}

// Bug: applyFaultJson (src/model/faults.cc) checks is_number_integer() and then reads
// get<int>(), which truncates integers beyond int's range: {"error_status":4294967796} is
// accepted as 500 and {"crash":{"after":4294967299}} as crash_after 3. Enable once fixed.
TEST(ApplyFaultJsonTest, RejectsIntegersBeyondIntRange) {
  expectRejected(R"({"error_status":4294967796})");
  expectRejected(R"({"crash":{"after":4294967299}})");
}

TEST(ApplyFaultJsonTest, RejectsUnknownKeys) {
  expectRejected(R"({"latncy":"200ms"})");
  expectRejected(R"({"latency":"200ms","bogus":1})");
}

TEST(ApplyFaultJsonTest, RejectsNonObjectBodies) {
  expectRejected("[]");
  expectRejected("5");
  expectRejected(R"("latency")");
  expectRejected("not json");
  expectRejected("");
}

TEST(ApplyFaultJsonTest, EmptyObjectChangesNothing) {
  Faults current;
  current.error_rate = 0.1;
  EXPECT_DOUBLE_EQ(applied("{}", current).error_rate, 0.1);
}

TEST(FaultsJsonTest, ReportsEveryField) {
  Faults faults;
  faults.latency = milliseconds(200);
  faults.jitter = milliseconds(20);
  faults.distribution = LatencyDistribution::kExponential;
  faults.error_rate = 0.25;
  faults.error_status = 503;
  faults.crash_after = 4;
  faults.hang = true;
  faults.quality = Quality::kDegraded;
  nlohmann::json json = nlohmann::json::parse(faultsJson(faults));
  EXPECT_EQ(json["latency"], "200ms");
  EXPECT_EQ(json["jitter"], "20ms");
  EXPECT_EQ(json["distribution"], "exponential");
  EXPECT_EQ(json["error_rate"], 0.25);
  EXPECT_EQ(json["error_status"], 503);
  EXPECT_EQ(json["crash_after"], 4);
  EXPECT_EQ(json["hang"], true);
  EXPECT_EQ(json["quality"], "degraded");
}

TEST(SampleLatencyTest, FixedIsExact) {
  Faults faults;
  faults.latency = milliseconds(200);
  faults.jitter = milliseconds(50);  // Ignored by the fixed distribution.
  Random random(1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(sampleLatency(faults, random), milliseconds(200));
  }
  EXPECT_EQ(sampleLatency(Faults(), random), Duration::zero());
}

TEST(SampleLatencyTest, UniformStaysWithinJitter) {
  Faults faults;
  faults.latency = milliseconds(100);
  faults.jitter = milliseconds(20);
  faults.distribution = LatencyDistribution::kUniform;
  Random random(2);
  Duration low = milliseconds(200);
  Duration high = Duration::zero();
  for (int i = 0; i < 10000; ++i) {
    Duration d = sampleLatency(faults, random);
    ASSERT_GE(d, milliseconds(80));
    ASSERT_LE(d, milliseconds(120));
    low = std::min(low, d);
    high = std::max(high, d);
  }
  // Spread over the whole range, not stuck at the mean.
  EXPECT_LT(low, milliseconds(82));
  EXPECT_GT(high, milliseconds(118));
}

TEST(SampleLatencyTest, NormalIsNeverNegative) {
  Faults faults;
  faults.latency = milliseconds(10);
  faults.jitter = milliseconds(20);
  faults.distribution = LatencyDistribution::kNormal;
  Random random(3);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_GE(sampleLatency(faults, random), Duration::zero());
  }
}

TEST(SampleLatencyTest, ExponentialMeanIsNearTheSetLatency) {
  Faults faults;
  faults.latency = milliseconds(50);
  faults.distribution = LatencyDistribution::kExponential;
  Random random(4);
  constexpr int kDraws = 100000;
  double sum_ms = 0;
  for (int i = 0; i < kDraws; ++i) {
    Duration d = sampleLatency(faults, random);
    ASSERT_GE(d, Duration::zero());
    sum_ms += std::chrono::duration<double, std::milli>(d).count();
  }
  // The standard error of the mean is 50 / sqrt(100000), about 0.16 ms.
  EXPECT_NEAR(sum_ms / kDraws, 50.0, 1.0);
}

TEST(SampleLatencyTest, SameSeedGivesSameLatencies) {
  Faults faults;
  faults.latency = milliseconds(30);
  faults.distribution = LatencyDistribution::kExponential;
  Random a(9);
  Random b(9);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(sampleLatency(faults, a), sampleLatency(faults, b));
  }
}

TEST(ParseLatencyDistributionTest, AcceptsKnownNames) {
  EXPECT_EQ(*parseLatencyDistribution("fixed"), LatencyDistribution::kFixed);
  EXPECT_EQ(*parseLatencyDistribution("uniform"), LatencyDistribution::kUniform);
  EXPECT_EQ(*parseLatencyDistribution("normal"), LatencyDistribution::kNormal);
  EXPECT_EQ(*parseLatencyDistribution("exponential"), LatencyDistribution::kExponential);
  EXPECT_FALSE(parseLatencyDistribution("Fixed").ok());
}

}  // namespace
}  // namespace dw::model
