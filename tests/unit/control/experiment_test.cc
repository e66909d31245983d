#include "control/experiment.h"

#include <cmath>
#include <map>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/random.h"

namespace dw::control {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// A two-arm experiment with fewer resamples than production, to keep the tests fast.
ExperimentConfig twoArms() {
  ExperimentConfig config;
  config.model = "chat";
  config.control = "v1";
  config.treatments = {"v2"};
  config.split = {50, 50};
  config.resamples = 400;
  return config;
}

// An arm with `n` requests: accuracy outcomes drawn with `accuracy`, lognormal latencies around
// `median_s`, the given error rate, and `tokens_per_second` over 100 replica-seconds.
ArmSamples simulate(Random& random, size_t n, double accuracy, double median_s,
                    double error_rate = 0.0, double tokens_per_second = 50) {
  ArmSamples arm;
  std::lognormal_distribution<double> latency(std::log(median_s), 0.5);
  for (size_t i = 0; i < n; ++i) {
    arm.correct.push_back(random.uniform() < accuracy ? 1 : 0);
    arm.latencies_s.push_back(latency(random));
  }
  arm.requests = n;
  arm.errors = static_cast<uint64_t>(std::llround(error_rate * static_cast<double>(n)));
  arm.replica_seconds = 100;
  arm.tokens = tokens_per_second * arm.replica_seconds;
  return arm;
}

// An arm with fixed values: `correct` of 1000 outcomes right, every latency `latency_s`.
ArmSamples fixedArm(int correct, double latency_s, double tokens) {
  ArmSamples arm;
  for (int i = 0; i < 1000; ++i) {
    arm.correct.push_back(i < correct ? 1 : 0);
  }
  arm.latencies_s.assign(1000, latency_s);
  arm.requests = 1000;
  arm.tokens = tokens;
  arm.replica_seconds = 10;
  return arm;
}

TEST(ExperimentTest, ScoreOfKnownInputsEqualsHandComputedValue) {
  // Control: accuracy 0.7, P50 1.0 s, 100 tokens/replica-second. Treatment: accuracy 0.75,
  // P50 0.8 s (latency term 1.25), 120 tokens/replica-second (efficiency 1.2).
  Random random(1);
  const Verdict v = judge(
      twoArms(), {{"v1", fixedArm(700, 1.0, 1000)}, {"v2", fixedArm(750, 0.8, 1200)}}, random);
  ASSERT_EQ(v.arms.size(), 2u);
  EXPECT_DOUBLE_EQ(v.arms[0].score.value, 0.6 * 0.7 + 0.3 * 1.0 + 0.1 * 1.0);
  EXPECT_DOUBLE_EQ(v.arms[1].latency.value, 1.25);
  EXPECT_DOUBLE_EQ(v.arms[1].efficiency.value, 1.2);
  EXPECT_DOUBLE_EQ(v.arms[1].score.value, 0.6 * 0.75 + 0.3 * 1.25 + 0.1 * 1.2);
  EXPECT_NEAR(v.comparisons[0].score_difference.value, 0.945 - 0.82, 1e-12);
}

TEST(ExperimentTest, ControlLatencyAndEfficiencyTermsAreExactlyOne) {
  Random data(2);
  Random random(3);
  const Verdict v =
      judge(twoArms(),
            {{"v1", simulate(data, 300, 0.7, 0.5)}, {"v2", simulate(data, 300, 0.7, 0.4)}}, random);
  const ArmVerdict& control = v.arms[0];
  for (const TermEstimate& t : {control.latency, control.efficiency}) {
    EXPECT_EQ(t.value, 1.0);
    EXPECT_EQ(t.low, 1.0);
    EXPECT_EQ(t.high, 1.0);
  }
}

TEST(ExperimentTest, WeightsAreConfigurable) {
  ExperimentConfig config = twoArms();
  config.weights = {1.0, 0.0, 0.0};
  Random random(1);
  const Verdict v =
      judge(config, {{"v1", fixedArm(700, 1.0, 1000)}, {"v2", fixedArm(750, 0.8, 1200)}}, random);
  EXPECT_DOUBLE_EQ(v.arms[1].score.value, 0.75);
}

TEST(ExperimentTest, ClearlyMoreAccurateTreatmentWins) {
  Random data(10);
  Random random(11);
  const Verdict v =
      judge(twoArms(),
            {{"v1", simulate(data, 500, 0.6, 0.5)}, {"v2", simulate(data, 500, 0.8, 0.5)}}, random);
  EXPECT_EQ(v.decision, Verdict::Decision::kWinner) << toJson(v).dump(2);
  EXPECT_EQ(v.winner, "v2");
  EXPECT_GT(v.score_difference.low, 0);
  EXPECT_LT(v.arms[1].accuracy.low, 0.8);
  EXPECT_GT(v.arms[1].accuracy.high, 0.8);
}

TEST(ExperimentTest, ClearlyWorseTreatmentMakesTheControlWin) {
  Random data(12);
  Random random(13);
  const Verdict v =
      judge(twoArms(),
            {{"v1", simulate(data, 500, 0.8, 0.5)}, {"v2", simulate(data, 500, 0.6, 0.5)}}, random);
  EXPECT_EQ(v.decision, Verdict::Decision::kWinner);
  EXPECT_EQ(v.winner, "v1");
  EXPECT_LT(v.score_difference.high, 0);
}

TEST(ExperimentTest, IdenticalArmsNeverDeclareAWinner) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Random data(100 + seed);
    const ArmSamples arm = simulate(data, 1000, 0.7, 0.5);
    Random random(200 + seed);
    const Verdict v = judge(twoArms(), {{"v1", arm}, {"v2", arm}}, random);
    EXPECT_EQ(v.decision, Verdict::Decision::kNoDifferenceYet) << "seed " << seed;
    EXPECT_TRUE(v.winner.empty());
    EXPECT_LT(v.score_difference.low, 0);
    EXPECT_GT(v.score_difference.high, 0);
  }
}

// Independent draws from one distribution: a false winner at most about as often as 1 -
// confidence allows (5%), here at most 2 of 20 seeds.
TEST(ExperimentTest, SameDistributionRarelyDeclaresAWinner) {
  int winners = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Random data(300 + seed);
    Random random(400 + seed);
    const Verdict v = judge(
        twoArms(), {{"v1", simulate(data, 1000, 0.7, 0.5)}, {"v2", simulate(data, 1000, 0.7, 0.5)}},
        random);
    EXPECT_NE(v.decision, Verdict::Decision::kStopForHarm);
    winners += v.decision == Verdict::Decision::kWinner ? 1 : 0;
  }
  EXPECT_LE(winners, 2);
}

TEST(ExperimentTest, TooFewRequestsIsNotEnoughData) {
  Random data(20);
  Random random(21);
  const Verdict v =
      judge(twoArms(),
            {{"v1", simulate(data, 500, 0.6, 0.5)}, {"v2", simulate(data, 150, 0.9, 0.5)}}, random);
  EXPECT_EQ(v.decision, Verdict::Decision::kNotEnoughData);
  EXPECT_TRUE(v.winner.empty());
  ASSERT_FALSE(v.reasons.empty());
  EXPECT_THAT(v.reasons.back(), HasSubstr("arm v2 has 150 requests of the 200 needed"));
}

TEST(ExperimentTest, TooFewAccuracyObservationsIsNotEnoughData) {
  Random data(22);
  Random random(23);
  ArmSamples treatment = simulate(data, 500, 0.9, 0.5);
  treatment.correct.resize(60);
  const Verdict v =
      judge(twoArms(), {{"v1", simulate(data, 500, 0.6, 0.5)}, {"v2", treatment}}, random);
  EXPECT_EQ(v.decision, Verdict::Decision::kNotEnoughData);
  EXPECT_THAT(v.reasons.back(), HasSubstr("60 accuracy observations of the 100 needed"));
}

TEST(ExperimentTest, MissingArmIsNotEnoughData) {
  Random data(24);
  Random random(25);
  const Verdict v = judge(twoArms(), {{"v1", simulate(data, 500, 0.6, 0.5)}}, random);
  EXPECT_EQ(v.decision, Verdict::Decision::kNotEnoughData);
  EXPECT_TRUE(std::isnan(v.score_difference.value));
  EXPECT_TRUE(toJson(v)["score_difference"]["value"].is_null());
}

TEST(ExperimentTest, HigherErrorRateStopsForHarmEvenWhenMoreAccurate) {
  Random data(30);
  Random random(31);
  const Verdict v = judge(
      twoArms(),
      {{"v1", simulate(data, 2000, 0.6, 0.5, 0.005)}, {"v2", simulate(data, 2000, 0.8, 0.5, 0.05)}},
      random);
  EXPECT_EQ(v.decision, Verdict::Decision::kStopForHarm) << toJson(v).dump(2);
  EXPECT_TRUE(v.winner.empty());
  EXPECT_EQ(v.harmful, std::vector<std::string>{"v2"});
  EXPECT_GT(v.comparisons[0].error_rate_difference.low, 0.01);
  EXPECT_THAT(v.reasons.back(), HasSubstr("error rate"));
}

TEST(ExperimentTest, HarmNeedsOnlyTheRequestMinimum) {
  // The treatment fails so often that it has few accuracy observations; it is stopped anyway.
  Random data(32);
  Random random(33);
  ArmSamples treatment = simulate(data, 1000, 0.7, 0.5, 0.2);
  treatment.correct.resize(10);
  const Verdict v =
      judge(twoArms(), {{"v1", simulate(data, 1000, 0.7, 0.5)}, {"v2", treatment}}, random);
  EXPECT_EQ(v.decision, Verdict::Decision::kStopForHarm);
}

TEST(ExperimentTest, SlowerTailStopsForHarm) {
  Random data(34);
  Random random(35);
  const Verdict v = judge(
      twoArms(), {{"v1", simulate(data, 1000, 0.7, 0.5)}, {"v2", simulate(data, 1000, 0.7, 1.5)}},
      random);
  EXPECT_EQ(v.decision, Verdict::Decision::kStopForHarm);
  EXPECT_GT(v.comparisons[0].p99_ratio.low, 1.5);
  EXPECT_THAT(v.reasons.back(), HasSubstr("P99"));
}

TEST(ExperimentTest, JsonNamesTheDecisionAndArms) {
  Random data(40);
  Random random(41);
  const json j = toJson(judge(
      twoArms(), {{"v1", simulate(data, 500, 0.6, 0.5)}, {"v2", simulate(data, 500, 0.8, 0.5)}},
      random));
  EXPECT_EQ(j["decision"], "winner");
  EXPECT_EQ(j["winner"], "v2");
  ASSERT_EQ(j["arms"].size(), 2u);
  EXPECT_EQ(j["arms"][0]["latency"]["value"], 1.0);
  EXPECT_TRUE(j["comparisons"][0]["score_difference"]["low"].is_number());
}

TEST(ExperimentTest, StickyAssignmentIsStable) {
  const ExperimentConfig config = twoArms();
  for (int i = 0; i < 100; ++i) {
    const std::string key = "client-" + std::to_string(i);
    EXPECT_EQ(assignArm(config, key), assignArm(config, key));
  }
  // Fixed values: the hash (FNV-1a and splitmix64) is the same in every process and on every
  // machine, so these pin it.
  EXPECT_EQ(assignArm(config, "client-0"), "v2");
  EXPECT_EQ(assignArm(config, "client-1"), "v1");
  EXPECT_EQ(assignArm(config, "client-2"), "v2");
}

TEST(ExperimentTest, AssignmentFollowsTheSplitWithinOnePercent) {
  ExperimentConfig config = twoArms();
  config.treatments = {"v2", "v3"};
  config.split = {70, 20, 10};
  std::map<std::string, int> counts;
  constexpr int kKeys = 100'000;
  for (int i = 0; i < kKeys; ++i) {
    ++counts[assignArm(config, "key-" + std::to_string(i))];
  }
  EXPECT_NEAR(counts["v1"] / static_cast<double>(kKeys), 0.70, 0.01);
  EXPECT_NEAR(counts["v2"] / static_cast<double>(kKeys), 0.20, 0.01);
  EXPECT_NEAR(counts["v3"] / static_cast<double>(kKeys), 0.10, 0.01);
}

TEST(ExperimentTest, ZeroPercentArmGetsNoTraffic) {
  ExperimentConfig config = twoArms();
  config.split = {100, 0};
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(assignArm(config, "k" + std::to_string(i)), "v1");
  }
}

TEST(ExperimentTest, ParsesAFullConfig) {
  const json body = json::parse(R"({
    "model": "chat", "control": "v1", "treatments": ["v2"],
    "split": {"v1": 80, "v2": 20},
    "sticky": {"source": "header", "header": "X-User-Id"},
    "weights": {"accuracy": 0.5, "latency": 0.4, "efficiency": 0.1},
    "min_samples": {"requests": 300, "accuracy": 150},
    "confidence": 0.99, "resamples": 1000,
    "guardrails": {"max_error_increase": 0.02, "max_p99_ratio": 1.3}})");
  const StatusOr<ExperimentConfig> config = experimentFromJson(body);
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->arms(), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(config->split, (std::vector<double>{80, 20}));
  EXPECT_EQ(config->sticky.source, StickyConfig::Source::kHeader);
  EXPECT_EQ(config->sticky.header, "x-user-id");
  EXPECT_EQ(config->weights.latency, 0.4);
  EXPECT_EQ(config->min_samples.requests, 300u);
  EXPECT_EQ(config->min_samples.accuracy, 150u);
  EXPECT_EQ(config->confidence, 0.99);
  EXPECT_EQ(config->resamples, 1000);
  EXPECT_EQ(config->guardrails.max_p99_ratio, 1.3);
}

TEST(ExperimentTest, DefaultsMatchTheSpecification) {
  const StatusOr<ExperimentConfig> config =
      experimentFromJson({{"model", "chat"}, {"control", "v1"}, {"treatment", "v2"}});
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->split, (std::vector<double>{50, 50}));
  EXPECT_EQ(config->sticky.source, StickyConfig::Source::kApiKey);
  EXPECT_EQ(config->weights.accuracy, 0.6);
  EXPECT_EQ(config->weights.latency, 0.3);
  EXPECT_EQ(config->weights.efficiency, 0.1);
  EXPECT_EQ(config->min_samples.requests, 200u);
  EXPECT_EQ(config->min_samples.accuracy, 100u);
  EXPECT_EQ(config->confidence, 0.95);
  EXPECT_EQ(config->resamples, 2000);
  EXPECT_EQ(config->guardrails.max_error_increase, 0.01);
  EXPECT_EQ(config->guardrails.max_p99_ratio, 1.5);
}

TEST(ExperimentTest, RejectsBadConfigNamingTheField) {
  const json base = {{"model", "chat"}, {"control", "v1"}, {"treatments", {"v2"}}};
  auto error_for = [&](const json& patch) {
    json body = base;
    body.merge_patch(patch);
    const StatusOr<ExperimentConfig> config = experimentFromJson(body);
    EXPECT_FALSE(config.ok()) << patch.dump();
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
    return config.status().message();
  };
  EXPECT_THAT(error_for({{"model", nullptr}}), HasSubstr("'model' is required"));
  EXPECT_THAT(error_for({{"control", 3}}), HasSubstr("'control' must be a non-empty string"));
  EXPECT_THAT(error_for({{"treatments", json::array()}}), HasSubstr("'treatments'"));
  EXPECT_THAT(error_for({{"treatments", {"v1"}}}), HasSubstr("'treatments[0]' repeats"));
  EXPECT_THAT(error_for({{"split", {{"v1", 60}, {"v2", 30}}}}), HasSubstr("must sum to 100"));
  EXPECT_THAT(error_for({{"split", {{"v1", 50}, {"v9", 50}}}}), HasSubstr("'split.v9'"));
  EXPECT_THAT(error_for({{"split", {{"v1", 100}}}}), HasSubstr("'split.v2' is required"));
  EXPECT_THAT(error_for({{"split", {{"v1", 150}, {"v2", -50}}}}), HasSubstr("'split.v1'"));
  EXPECT_THAT(error_for({{"sticky", {{"source", "header"}}}}), HasSubstr("'sticky.header'"));
  EXPECT_THAT(error_for({{"sticky", {{"source", "cookie"}}}}), HasSubstr("'sticky.source'"));
  EXPECT_THAT(error_for({{"weights", {{"accuracy", -1}}}}), HasSubstr("'weights.accuracy'"));
  EXPECT_THAT(error_for({{"weights", {{"accuracy", 0}, {"latency", 0}, {"efficiency", 0}}}}),
              HasSubstr("'weights' must not all be zero"));
  EXPECT_THAT(error_for({{"min_samples", {{"requests", 0}}}}), HasSubstr("'min_samples.requests'"));
  EXPECT_THAT(error_for({{"min_samples", {{"accuracy", 1.5}}}}),
              HasSubstr("'min_samples.accuracy' must be a non-negative integer"));
  EXPECT_THAT(error_for({{"confidence", 1}}), HasSubstr("'confidence'"));
  EXPECT_THAT(error_for({{"resamples", 10}}), HasSubstr("'resamples'"));
  EXPECT_THAT(error_for({{"guardrails", {{"max_p99_ratio", 0.5}}}}),
              HasSubstr("'guardrails.max_p99_ratio'"));
  EXPECT_THAT(error_for({{"guardrails", {{"p99", 2}}}}),
              HasSubstr("unknown field 'guardrails.p99'"));
  EXPECT_THAT(error_for({{"colour", "red"}}), HasSubstr("unknown field 'colour'"));
  EXPECT_THAT(error_for({{"treatment", "v3"}}), HasSubstr("'treatment' cannot be given"));
  EXPECT_FALSE(experimentFromJson(json::array()).ok());
}

}  // namespace
}  // namespace dw::control
