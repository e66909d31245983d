#include "detect/rule.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dw::detect {
namespace {

const RuleConfig* findRule(const std::vector<RuleConfig>& rules, const std::string& name) {
  for (const RuleConfig& rule : rules) {
    if (rule.name == name) {
      return &rule;
    }
  }
  return nullptr;
}

void expectMatcher(const Matcher& m, const std::string& label, Matcher::Op op,
                   const std::string& value) {
  EXPECT_EQ(m.label, label);
  EXPECT_EQ(m.op, op);
  EXPECT_EQ(m.value, value);
}

TEST(RuleSelectorTest, ParsesABareName) {
  auto selector = parseSelector("deepseek_queue_length");
  ASSERT_TRUE(selector.ok()) << selector.status().toString();
  EXPECT_EQ(selector->first, "deepseek_queue_length");
  EXPECT_TRUE(selector->second.empty());
}

TEST(RuleSelectorTest, ParsesOneEqualityMatcher) {
  auto selector = parseSelector(R"(metric{a="x"})");
  ASSERT_TRUE(selector.ok()) << selector.status().toString();
  EXPECT_EQ(selector->first, "metric");
  ASSERT_EQ(selector->second.size(), 1u);
  expectMatcher(selector->second[0], "a", Matcher::Op::kEqual, "x");
}

TEST(RuleSelectorTest, ParsesEveryOperator) {
  auto selector = parseSelector(R"(metric{a="x",b!="y",c=~"p|q",d!~"z"})");
  ASSERT_TRUE(selector.ok()) << selector.status().toString();
  EXPECT_EQ(selector->first, "metric");
  ASSERT_EQ(selector->second.size(), 4u);
  expectMatcher(selector->second[0], "a", Matcher::Op::kEqual, "x");
  expectMatcher(selector->second[1], "b", Matcher::Op::kNotEqual, "y");
  expectMatcher(selector->second[2], "c", Matcher::Op::kRegex, "p|q");
  expectMatcher(selector->second[3], "d", Matcher::Op::kNotRegex, "z");
}

TEST(RuleSelectorTest, AcceptsSpacesBetweenMatchers) {
  auto selector = parseSelector(R"(metric {a="x", b="y"})");
  ASSERT_TRUE(selector.ok()) << selector.status().toString();
  EXPECT_EQ(selector->first, "metric");
  ASSERT_EQ(selector->second.size(), 2u);
  expectMatcher(selector->second[1], "b", Matcher::Op::kEqual, "y");
}

TEST(RuleSelectorTest, RejectsASelectorWithoutName) {
  auto selector = parseSelector(R"({a="x"})");
  ASSERT_FALSE(selector.ok());
  EXPECT_EQ(selector.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(selector.status().message().find("names no metric"), std::string::npos)
      << selector.status().message();
  EXPECT_FALSE(parseSelector("").ok());
}

TEST(RuleSelectorTest, RejectsAMissingClosingBrace) {
  auto selector = parseSelector(R"(metric{a="x")");
  ASSERT_FALSE(selector.ok());
  EXPECT_NE(selector.status().message().find("closing brace"), std::string::npos)
      << selector.status().message();
}

TEST(RuleSelectorTest, RejectsAnUnquotedValue) {
  auto selector = parseSelector("metric{a=x}");
  ASSERT_FALSE(selector.ok());
  EXPECT_NE(selector.status().message().find("quoted value"), std::string::npos)
      << selector.status().message();
}

TEST(RuleSelectorTest, RejectsAnUnterminatedValue) {
  EXPECT_FALSE(parseSelector(R"(metric{a="x})").ok());
}

TEST(RuleSelectorTest, RejectsAnUnknownOperator) {
  for (const char* text : {R"(metric{a>"x"})", R"(metric{a<="x"})", R"(metric{a})"}) {
    auto selector = parseSelector(text);
    ASSERT_FALSE(selector.ok()) << text;
    EXPECT_NE(selector.status().message().find("expected =, !=, =~ or !~"), std::string::npos)
        << selector.status().message();
  }
}

TEST(DefaultRulesTest, LatencyP99HasTheSpecificationTiers) {
  const std::vector<RuleConfig> rules = defaultRules("deepseek", "1m");
  const RuleConfig* rule = findRule(rules, "LatencyP99High");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->metric, "deepseek_latency_p99_seconds");
  ASSERT_EQ(rule->matchers.size(), 1u);
  expectMatcher(rule->matchers[0], "window", Matcher::Op::kEqual, "1m");
  ASSERT_TRUE(rule->warning.has_value());
  ASSERT_TRUE(rule->critical.has_value());
  EXPECT_DOUBLE_EQ(*rule->warning, 0.5);  // R2.1
  EXPECT_DOUBLE_EQ(*rule->critical, 0.8);
  EXPECT_FALSE(rule->below);
  EXPECT_GT(rule->for_duration, Duration(0));
  EXPECT_GT(rule->min_samples, 0u);
  EXPECT_EQ(rule->labels.at("source"), "deepwatch");
  EXPECT_EQ(rule->annotations.count("summary"), 1u);
}

TEST(DefaultRulesTest, InputDistributionShiftHasTheSpecificationTiers) {
  const std::vector<RuleConfig> rules = defaultRules("deepseek", "1m");
  const RuleConfig* rule = findRule(rules, "InputDistributionShift");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->metric, "deepseek_input_kl_divergence");
  ASSERT_TRUE(rule->warning.has_value());
  ASSERT_TRUE(rule->critical.has_value());
  EXPECT_DOUBLE_EQ(*rule->warning, 0.3);  // R2.2
  EXPECT_DOUBLE_EQ(*rule->critical, 0.5);
}

TEST(DefaultRulesTest, ReplicaDownFiresBelowItsThreshold) {
  const std::vector<RuleConfig> rules = defaultRules("deepseek", "1m");
  const RuleConfig* rule = findRule(rules, "ReplicaDown");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->metric, "deepseek_replica_up");
  EXPECT_TRUE(rule->below);
  ASSERT_TRUE(rule->critical.has_value());
  EXPECT_GT(*rule->critical, 0.0);
  EXPECT_LT(*rule->critical, 1.0);
}

TEST(DefaultRulesTest, CoversTheRemainingSignals) {
  const std::vector<RuleConfig> rules = defaultRules("deepseek", "1m");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ErrorRatioHigh", "deepseek_error_ratio"},
      {"AbnormalInputRatioHigh", "deepseek_input_abnormal_ratio"},
      {"LabelDrift", "deepseek_output_label_drift_index"},
      {"LowConfidenceRatioHigh", "deepseek_output_low_confidence_ratio"},
      {"GpuMemoryPressure", "deepseek_resource_kv_cache_usage_ratio"},
      {"QueueLengthHigh", "deepseek_queue_length"},
  };
  for (const auto& [name, metric] : expected) {
    const RuleConfig* rule = findRule(rules, name);
    ASSERT_NE(rule, nullptr) << name;
    EXPECT_EQ(rule->metric, metric) << name;
    EXPECT_TRUE(rule->warning.has_value() || rule->critical.has_value()) << name;
    if (rule->warning && rule->critical) {
      EXPECT_LT(*rule->warning, *rule->critical) << name;
    }
  }
}

TEST(DefaultRulesTest, UsesTheNamespaceAndWindowGiven) {
  const std::vector<RuleConfig> rules = defaultRules("gw", "5m");
  const RuleConfig* rule = findRule(rules, "LatencyP99High");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->metric, "gw_latency_p99_seconds");
  ASSERT_EQ(rule->matchers.size(), 1u);
  EXPECT_EQ(rule->matchers[0].value, "5m");
  for (const RuleConfig& r : rules) {
    EXPECT_EQ(r.metric.rfind("gw_", 0), 0u) << r.name;
  }
}

}  // namespace
}  // namespace dw::detect
