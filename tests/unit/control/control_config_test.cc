#include "control/control_config.h"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/config.h"

namespace dw::control {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One model, one version, one replica (lines 1-6); the `control:` section under test starts at
// line 7. The section is read the way `deepwatch serve` reads it: the gateway parser keeps it as
// YAML and parseControlConfig() reads it with the file name for errors.
constexpr std::string_view kMinimal =
    "models:\n"
    "  - name: chat\n"
    "    versions:\n"
    "      - id: v1\n"
    "        replicas:\n"
    "          - url: http://127.0.0.1:8000\n";

StatusOr<ControlConfig> parse(std::string_view control) {
  const std::string text = std::string(kMinimal) + std::string(control);
  StatusOr<gateway::GatewayConfig> gateway = gateway::parseGatewayConfig(text, "test.yaml");
  EXPECT_TRUE(gateway.ok()) << gateway.status().toString() << "\n" << text;
  if (!gateway.ok()) {
    return gateway.status();
  }
  return parseControlConfig(gateway->control, gateway->file);
}

ControlConfig parsed(std::string_view control) {
  StatusOr<ControlConfig> config = parse(control);
  EXPECT_TRUE(config.ok()) << config.status().toString() << "\n" << control;
  return config.ok() ? *config : ControlConfig();
}

// The message of the error that `control` must produce.
std::string errorOf(std::string_view control) {
  StatusOr<ControlConfig> config = parse(control);
  EXPECT_FALSE(config.ok()) << "accepted:\n" << control;
  if (config.ok()) {
    return "";
  }
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << control;
  return config.status().message();
}

void expectDefaultRollout(const RolloutConfig& rollout) {
  EXPECT_THAT(rollout.steps, ElementsAre(5, 10, 25, 50, 100));
  EXPECT_EQ(rollout.step_interval, seconds(60));
  EXPECT_EQ(rollout.min_requests, 50);
  EXPECT_DOUBLE_EQ(rollout.p99_ratio, 1.2);
  EXPECT_DOUBLE_EQ(rollout.error_margin, 0.01);
  EXPECT_DOUBLE_EQ(rollout.accuracy_margin, 0.05);
  EXPECT_EQ(rollout.max_failed_analyses, 1);
  EXPECT_EQ(rollout.ready_timeout, seconds(120));
}

void expectDefaultRecovery(const RecoveryConfig& recovery) {
  EXPECT_TRUE(recovery.rollback_on_accuracy);
  EXPECT_DOUBLE_EQ(recovery.accuracy_margin, 0.1);
  EXPECT_EQ(recovery.recent_probes, 30);
  EXPECT_DOUBLE_EQ(recovery.confidence, 0.99);
}

TEST(ControlConfigTest, AbsentSectionGetsDefaults) {
  ControlConfig config = parsed("");
  EXPECT_TRUE(config.enabled);
  EXPECT_TRUE(config.probes.empty());
  expectDefaultRollout(config.rollout);
  expectDefaultRecovery(config.recovery);
}

TEST(ControlConfigTest, EmptySectionGetsDefaults) {
  ControlConfig config = parsed("control:\n");
  EXPECT_TRUE(config.enabled);
  EXPECT_TRUE(config.probes.empty());
  expectDefaultRollout(config.rollout);
  expectDefaultRecovery(config.recovery);
}

TEST(ControlConfigTest, ReadsEveryKey) {
  ControlConfig config = parsed(
      "control:\n"
      "  enabled: false\n"
      "  probes:\n"
      "    - model: chat\n"
      "      file: golden/chat.jsonl\n"
      "      interval: 2s\n"
      "      per_round: 4\n"
      "      window: 50\n"
      "  rollout:\n"
      "    steps: [1, 20, 100]\n"
      "    step_interval: 30s\n"
      "    min_requests: 0\n"
      "    p99_ratio: 1.5\n"
      "    error_margin: 0.02\n"
      "    accuracy_margin: 0.1\n"
      "    max_failed_analyses: 3\n"
      "    ready_timeout: 500ms\n"
      "  recovery:\n"
      "    rollback_on_accuracy: false\n"
      "    accuracy_margin: 0.2\n"
      "    recent_probes: 40\n"
      "    confidence: 0.9\n");
  EXPECT_FALSE(config.enabled);
  ASSERT_EQ(config.probes.size(), 1u);
  EXPECT_EQ(config.probes[0].model, "chat");
  EXPECT_EQ(config.probes[0].file, "golden/chat.jsonl");
  EXPECT_EQ(config.probes[0].interval, seconds(2));
  EXPECT_EQ(config.probes[0].per_round, 4);
  EXPECT_EQ(config.probes[0].window, 50);

  EXPECT_THAT(config.rollout.steps, ElementsAre(1, 20, 100));
  EXPECT_EQ(config.rollout.step_interval, seconds(30));
  EXPECT_EQ(config.rollout.min_requests, 0);
  EXPECT_DOUBLE_EQ(config.rollout.p99_ratio, 1.5);
  EXPECT_DOUBLE_EQ(config.rollout.error_margin, 0.02);
  EXPECT_DOUBLE_EQ(config.rollout.accuracy_margin, 0.1);
  EXPECT_EQ(config.rollout.max_failed_analyses, 3);
  EXPECT_EQ(config.rollout.ready_timeout, milliseconds(500));

  EXPECT_FALSE(config.recovery.rollback_on_accuracy);
  EXPECT_DOUBLE_EQ(config.recovery.accuracy_margin, 0.2);
  EXPECT_EQ(config.recovery.recent_probes, 40);
  EXPECT_DOUBLE_EQ(config.recovery.confidence, 0.9);
}

TEST(ControlConfigTest, ProbeGetsDefaultsForOptionalKeys) {
  ControlConfig config = parsed(
      "control:\n"
      "  probes:\n"
      "    - {model: chat, file: a.jsonl}\n"
      "    - {model: code, file: b.jsonl}\n");
  ASSERT_EQ(config.probes.size(), 2u);
  EXPECT_EQ(config.probes[0].model, "chat");
  EXPECT_EQ(config.probes[1].model, "code");
  EXPECT_EQ(config.probes[1].file, "b.jsonl");
  EXPECT_EQ(config.probes[0].interval, seconds(5));
  EXPECT_EQ(config.probes[0].per_round, 10);
  EXPECT_EQ(config.probes[0].window, 200);
  // Setting only some rollout keys keeps the others.
  expectDefaultRollout(config.rollout);
}

TEST(ControlConfigTest, StepsWithoutFullTrafficEndAtHundred) {
  EXPECT_THAT(parsed("control:\n  rollout:\n    steps: [5, 20]\n").rollout.steps,
              ElementsAre(5, 20, 100));
  EXPECT_THAT(parsed("control:\n  rollout:\n    steps: [100]\n").rollout.steps, ElementsAre(100));
  EXPECT_THAT(parsed("control:\n  rollout:\n    steps: []\n").rollout.steps, ElementsAre(100));
}

TEST(ControlConfigTest, RejectsStepsThatDoNotIncrease) {
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [10, 5, 100]\n"),
              HasSubstr("test.yaml:9:12: control.rollout.steps: must be increasing percentages "
                        "from 1 to 100"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [10, 10]\n"),
              HasSubstr("control.rollout.steps: must be increasing"));
}

TEST(ControlConfigTest, RejectsStepsOutOfRange) {
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [0, 50]\n"),
              HasSubstr("control.rollout.steps: must be increasing"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [50, 101]\n"),
              HasSubstr("control.rollout.steps: must be increasing"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [-5]\n"),
              HasSubstr("control.rollout.steps: must be increasing"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [ten]\n"),
              HasSubstr("control.rollout.steps: must be increasing"));
}

TEST(ControlConfigTest, RejectsStepsThatAreNotAList) {
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: 10\n"),
              HasSubstr("test.yaml:9:12: control.rollout.steps: must be a list"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [[5]]\n"),
              HasSubstr("control.rollout.steps: must be a list"));
}

TEST(ControlConfigTest, RejectsStepThatIsNotAnInteger) {
  // Every step is a whole percentage: "5.5" or "10%" is a typo, not 5 or 10.
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [5.5, 50]\n"),
              HasSubstr("control.rollout.steps"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    steps: [10%, 50]\n"),
              HasSubstr("control.rollout.steps"));
}

TEST(ControlConfigTest, RejectsUnknownKeysAtEveryLevel) {
  EXPECT_THAT(errorOf("control:\n  enable: true\n"),
              HasSubstr("test.yaml:8:3: control.enable: unknown key"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    step: [5]\n"),
              HasSubstr("test.yaml:9:5: control.rollout.step: unknown key"));
  EXPECT_THAT(errorOf("control:\n  recovery:\n    margin: 0.1\n"),
              HasSubstr("test.yaml:9:5: control.recovery.margin: unknown key"));
  EXPECT_THAT(errorOf("control:\n  probes:\n    - {model: chat, file: a, every: 5s}\n"),
              HasSubstr("control.probes[0].every: unknown key"));
}

TEST(ControlConfigTest, RejectsSectionsThatAreNotMappings) {
  EXPECT_THAT(errorOf("control: 5\n"),
              HasSubstr("test.yaml:7:10: control: must be a mapping of keys to values"));
  EXPECT_THAT(errorOf("control:\n  rollout: [5]\n"),
              HasSubstr("test.yaml:8:12: control.rollout: must be a mapping"));
  EXPECT_THAT(errorOf("control:\n  recovery: yes\n"),
              HasSubstr("control.recovery: must be a mapping"));
  EXPECT_THAT(errorOf("control:\n  probes:\n    - chat\n"),
              HasSubstr("test.yaml:9:7: control.probes[0]: must be a mapping"));
}

TEST(ControlConfigTest, RejectsProbesThatAreNotAList) {
  EXPECT_THAT(errorOf("control:\n  probes: {model: chat}\n"),
              HasSubstr("test.yaml:8:11: control.probes: must be a list"));
}

TEST(ControlConfigTest, RequiresProbeModelAndFile) {
  EXPECT_THAT(errorOf("control:\n  probes:\n    - {file: a.jsonl}\n"),
              HasSubstr("control.probes[0].model: is required"));
  EXPECT_THAT(errorOf("control:\n  probes:\n    - {model: chat, file: a}\n    - {model: code}\n"),
              HasSubstr("test.yaml:10:7: control.probes[1].file: is required"));
}

TEST(ControlConfigTest, RejectsProbeValuesOutOfRange) {
  EXPECT_THAT(errorOf("control:\n  probes:\n    - {model: chat, file: a, per_round: 0}\n"),
              HasSubstr("control.probes[0].per_round: must be an integer from 1 to 10000"));
  EXPECT_THAT(errorOf("control:\n  probes:\n    - {model: chat, file: a, window: 9}\n"),
              HasSubstr("control.probes[0].window: must be an integer from 10 to 1000000"));
  EXPECT_THAT(errorOf("control:\n  probes:\n    - {model: chat, file: a, interval: soon}\n"),
              HasSubstr("control.probes[0].interval: "));
}

TEST(ControlConfigTest, RejectsRolloutValuesOutOfRange) {
  EXPECT_THAT(errorOf("control:\n  rollout:\n    p99_ratio: 0\n"),
              HasSubstr("test.yaml:9:16: control.rollout.p99_ratio: must be a number from 0.1 "
                        "to 100"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    error_margin: 1.5\n"),
              HasSubstr("control.rollout.error_margin: must be a number from 0 to 1"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    accuracy_margin: -0.1\n"),
              HasSubstr("control.rollout.accuracy_margin: must be a number from 0 to 1"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    max_failed_analyses: 0\n"),
              HasSubstr("control.rollout.max_failed_analyses: must be an integer from 1 to 100"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    min_requests: -1\n"),
              HasSubstr("control.rollout.min_requests: must be an integer from 0"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    min_requests: 2.5\n"),
              HasSubstr("control.rollout.min_requests: must be an integer"));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    step_interval: 5 minutes\n"),
              HasSubstr("control.rollout.step_interval: "));
  EXPECT_THAT(errorOf("control:\n  rollout:\n    ready_timeout: -1s\n"),
              HasSubstr("control.rollout.ready_timeout: "));
}

TEST(ControlConfigTest, RejectsRecoveryValuesOutOfRange) {
  EXPECT_THAT(errorOf("control:\n  recovery:\n    rollback_on_accuracy: maybe\n"),
              HasSubstr("control.recovery.rollback_on_accuracy: must be true or false"));
  EXPECT_THAT(errorOf("control:\n  recovery:\n    recent_probes: 4\n"),
              HasSubstr("control.recovery.recent_probes: must be an integer from 5 to 100000"));
  EXPECT_THAT(errorOf("control:\n  recovery:\n    confidence: 1\n"),
              HasSubstr("control.recovery.confidence: must be a number from 0.5 to 0.9999"));
  EXPECT_THAT(errorOf("control:\n  recovery:\n    confidence: 0.4\n"),
              HasSubstr("control.recovery.confidence: must be a number"));
  EXPECT_THAT(errorOf("control:\n  recovery:\n    accuracy_margin: 2\n"),
              HasSubstr("control.recovery.accuracy_margin: must be a number from 0 to 1"));
}

TEST(ControlConfigTest, RejectsEnabledThatIsNotABoolean) {
  EXPECT_THAT(errorOf("control:\n  enabled: sometimes\n"),
              HasSubstr("test.yaml:8:12: control.enabled: must be true or false"));
}

TEST(ClusterConfigTest, ReadsTheEtcdEndpointsAndDefaults) {
  auto config = parse(
      "control:\n"
      "  history_interval: 5s\n"
      "  cluster:\n"
      "    etcd: [http://127.0.0.1:2379, http://127.0.0.1:22379]\n"
      "    name: gw-a\n"
      "    lease_ttl: 5s\n");
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_TRUE(config->cluster.enabled());
  EXPECT_THAT(config->cluster.etcd, ElementsAre("http://127.0.0.1:2379", "http://127.0.0.1:22379"));
  EXPECT_EQ(config->cluster.name, "gw-a");
  EXPECT_EQ(config->cluster.prefix, "/deepwatch");
  EXPECT_EQ(config->cluster.lease_ttl, seconds(5));
  EXPECT_EQ(config->cluster.poll, milliseconds(200));
  EXPECT_EQ(config->history_interval, seconds(5));
  auto alone = parse("control:\n  enabled: true\n");
  ASSERT_TRUE(alone.ok());
  EXPECT_FALSE(alone->cluster.enabled());
}

TEST(ClusterConfigTest, RefusesBadEndpointsPrefixAndTtl) {
  EXPECT_THAT(parse("control:\n  cluster:\n    etcd: [127.0.0.1:2379]\n").status().message(),
              HasSubstr("test.yaml:9:11: control.cluster.etcd: etcd endpoints must be http://"));
  EXPECT_THAT(
      parse("control:\n  cluster:\n    etcd: [http://a:1]\n    prefix: dw/\n").status().message(),
      HasSubstr("control.cluster.prefix"));
  EXPECT_THAT(
      parse("control:\n  cluster:\n    etcd: [http://a:1]\n    lease_ttl: 1s\n").status().message(),
      HasSubstr("at least 2s"));
  EXPECT_THAT(
      parse("control:\n  cluster:\n    etcd: [http://a:1]\n    ttl: 5s\n").status().message(),
      HasSubstr("ttl"));
}

}  // namespace
}  // namespace dw::control
