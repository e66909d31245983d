#include "detect/evaluator.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "observe/prom_text.h"

namespace dw::detect {
namespace {

using observe::PromSample;
using std::chrono::seconds;
using Labels = std::vector<std::pair<std::string, std::string>>;

const TimePoint kT0 = TimePoint(seconds(1'700'000'000));
const Labels kSeries = {{"model", "m"}, {"version", "v1"}, {"window", "1m"}};

PromSample sample(std::string name, Labels labels, double value) {
  return PromSample{std::move(name), std::move(labels), value};
}

// A rule on `metric` with static tiers and no `for`.
RuleConfig staticRule(std::string name, std::string metric, std::optional<double> warning,
                      std::optional<double> critical) {
  RuleConfig rule;
  rule.name = std::move(name);
  rule.metric = std::move(metric);
  rule.warning = warning;
  rule.critical = critical;
  return rule;
}

RuleConfig latencyRule() {
  return staticRule("LatencyP99High", "deepseek_latency_p99_seconds", 0.5, 0.8);
}

std::unique_ptr<Evaluator> makeEvaluator(std::vector<RuleConfig> rules) {
  auto evaluator = Evaluator::create(std::move(rules), "deepseek", seconds(1));
  EXPECT_TRUE(evaluator.ok()) << evaluator.status().toString();
  return evaluator.ok() ? std::move(evaluator).value() : nullptr;
}

// Evaluates one latency series with `value` at `t`.
std::vector<AlertEvent> evalLatency(Evaluator& evaluator, double value, TimePoint t,
                                    const Labels& labels = kSeries) {
  return evaluator.evaluate({sample("deepseek_latency_p99_seconds", labels, value)}, t);
}

std::vector<Alert> firing(const Evaluator& evaluator) {
  std::vector<Alert> out;
  for (const Alert& alert : evaluator.alerts()) {
    if (alert.state == AlertState::kFiring) {
      out.push_back(alert);
    }
  }
  return out;
}

TEST(EvaluatorTest, CreateRejectsARuleWithoutThresholds) {
  RuleConfig rule = staticRule("Empty", "x", std::nullopt, std::nullopt);
  EXPECT_FALSE(Evaluator::create({rule}, "deepseek", seconds(1)).ok());
}

TEST(EvaluatorTest, CreateRejectsABadRegex) {
  RuleConfig rule = latencyRule();
  rule.matchers = {{"model", Matcher::Op::kRegex, "(unclosed"}};
  EXPECT_FALSE(Evaluator::create({rule}, "deepseek", seconds(1)).ok());
}

TEST(EvaluatorTest, FiresWarningAtTheFirstEvaluationWithoutFor) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.6, kT0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);
  EXPECT_EQ(events[0].alert.severity, Severity::kWarning);
  EXPECT_EQ(events[0].alert.state, AlertState::kFiring);
  EXPECT_EQ(events[0].alert.labels.at("severity"), "warning");
  EXPECT_EQ(events[0].alert.active_since, kT0);
  EXPECT_DOUBLE_EQ(events[0].alert.value, 0.6);
  ASSERT_EQ(firing(*evaluator).size(), 1u);
}

TEST(EvaluatorTest, BelowTheWarningThresholdNothingFires) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  EXPECT_TRUE(evalLatency(*evaluator, 0.4, kT0).empty());
  EXPECT_TRUE(evaluator->alerts().empty());
}

TEST(EvaluatorTest, CriticalWinsOverWarningAsOneInstance) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.9, kT0);
  ASSERT_EQ(events.size(), 1u);  // No separate warning: the critical inhibits it (R2.3).
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);
  EXPECT_EQ(events[0].alert.severity, Severity::kCritical);
  const std::vector<Alert> alerts = evaluator->alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].severity, Severity::kCritical);
  EXPECT_EQ(alerts[0].labels.at("severity"), "critical");
}

TEST(EvaluatorTest, EscalatesAndDeescalatesBetweenTiers) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  ASSERT_EQ(evalLatency(*evaluator, 0.6, kT0).size(), 1u);

  std::vector<AlertEvent> events = evalLatency(*evaluator, 0.9, kT0 + seconds(1));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kEscalated);
  EXPECT_EQ(events[0].previous, Severity::kWarning);
  EXPECT_EQ(events[0].alert.severity, Severity::kCritical);
  EXPECT_EQ(events[0].alert.labels.at("severity"), "critical");
  EXPECT_EQ(events[0].alert.active_since, kT0);  // Still the same alert.
  ASSERT_EQ(evaluator->alerts().size(), 1u);

  events = evalLatency(*evaluator, 0.6, kT0 + seconds(2));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kDeescalated);
  EXPECT_EQ(events[0].previous, Severity::kCritical);
  EXPECT_EQ(events[0].alert.severity, Severity::kWarning);
  EXPECT_EQ(events[0].alert.labels.at("severity"), "warning");
  ASSERT_EQ(evaluator->alerts().size(), 1u);

  events = evalLatency(*evaluator, 0.1, kT0 + seconds(3));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kResolved);
  EXPECT_EQ(events[0].alert.state, AlertState::kResolved);
  EXPECT_EQ(events[0].alert.resolved_at, kT0 + seconds(3));
}

TEST(EvaluatorTest, EventKindsHaveNames) {
  EXPECT_EQ(eventKindName(AlertEvent::Kind::kFired), "fired");
  EXPECT_EQ(eventKindName(AlertEvent::Kind::kEscalated), "escalated");
  EXPECT_EQ(eventKindName(AlertEvent::Kind::kDeescalated), "deescalated");
  EXPECT_EQ(eventKindName(AlertEvent::Kind::kResolved), "resolved");
}

TEST(EvaluatorTest, StaysPendingUntilForElapses) {
  RuleConfig rule = latencyRule();
  rule.for_duration = seconds(30);
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  for (int s = 0; s < 30; ++s) {
    EXPECT_TRUE(evalLatency(*evaluator, 0.6, kT0 + seconds(s)).empty()) << "at " << s << " s";
    EXPECT_TRUE(evaluator->alerts().empty()) << "pending alerts are not reported";
  }
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.6, kT0 + seconds(30));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);
  EXPECT_EQ(events[0].alert.active_since, kT0 + seconds(30));
}

TEST(EvaluatorTest, DroppingBelowBeforeForReturnsToInactiveSilently) {
  RuleConfig rule = latencyRule();
  rule.for_duration = seconds(30);
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  for (int s = 0; s <= 20; ++s) {
    EXPECT_TRUE(evalLatency(*evaluator, 0.6, kT0 + seconds(s)).empty());
  }
  EXPECT_TRUE(evalLatency(*evaluator, 0.3, kT0 + seconds(21)).empty());
  EXPECT_TRUE(evaluator->alerts().empty());
  // Pending starts over: 30 s from the new crossing, not from the first one.
  for (int s = 22; s < 52; ++s) {
    EXPECT_TRUE(evalLatency(*evaluator, 0.6, kT0 + seconds(s)).empty()) << "at " << s << " s";
  }
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.6, kT0 + seconds(52));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);
}

TEST(EvaluatorTest, HysteresisKeepsAFiringAlertUntilClearlyInside) {
  RuleConfig rule = staticRule("Latency", "deepseek_latency_p99_seconds", 0.5, std::nullopt);
  rule.hysteresis = 0.1;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  ASSERT_EQ(evalLatency(*evaluator, 0.6, kT0).size(), 1u);
  // 0.47 is inside by 6%, less than the 10% margin: still firing.
  EXPECT_TRUE(evalLatency(*evaluator, 0.47, kT0 + seconds(1)).empty());
  ASSERT_EQ(firing(*evaluator).size(), 1u);
  // 0.44 is inside by 12%: resolved.
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.44, kT0 + seconds(2));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kResolved);
  EXPECT_TRUE(firing(*evaluator).empty());
}

TEST(EvaluatorTest, ValueDancingOnTheThresholdDoesNotFlap) {
  RuleConfig rule = staticRule("Latency", "deepseek_latency_p99_seconds", 0.5, std::nullopt);
  rule.hysteresis = 0.1;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  ASSERT_EQ(evalLatency(*evaluator, 0.6, kT0).size(), 1u);
  for (int s = 1; s <= 300; ++s) {
    const double value = s % 2 == 0 ? 0.51 : 0.49;
    EXPECT_TRUE(evalLatency(*evaluator, value, kT0 + seconds(s)).empty()) << "at " << s << " s";
  }
  const std::vector<Alert> alerts = firing(*evaluator);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].active_since, kT0);
}

TEST(EvaluatorTest, WithoutHysteresisTheSameDanceWouldFlap) {
  RuleConfig rule = staticRule("Latency", "deepseek_latency_p99_seconds", 0.5, std::nullopt);
  rule.hysteresis = 0;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  ASSERT_EQ(evalLatency(*evaluator, 0.6, kT0).size(), 1u);
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.49, kT0 + seconds(1));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kResolved);
}

TEST(EvaluatorTest, CriticalHysteresisHoldsTheTier) {
  RuleConfig rule = latencyRule();
  rule.hysteresis = 0.1;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  ASSERT_EQ(evalLatency(*evaluator, 0.9, kT0).size(), 1u);
  // 0.75 is inside the critical threshold 0.8 by less than 10%: still critical.
  EXPECT_TRUE(evalLatency(*evaluator, 0.75, kT0 + seconds(1)).empty());
  // 0.7 is inside by 12.5%: de-escalates to warning.
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.7, kT0 + seconds(2));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kDeescalated);
  EXPECT_EQ(events[0].alert.severity, Severity::kWarning);
}

TEST(EvaluatorTest, BelowModeFiresWhenAReplicaIsDown) {
  RuleConfig rule = staticRule("ReplicaDown", "deepseek_replica_up", std::nullopt, 0.5);
  rule.below = true;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  const Labels replica = {{"model", "m"}, {"version", "v1"}, {"replica", "r1"}};
  EXPECT_TRUE(evaluator->evaluate({sample("deepseek_replica_up", replica, 1)}, kT0).empty());

  std::vector<AlertEvent> events =
      evaluator->evaluate({sample("deepseek_replica_up", replica, 0)}, kT0 + seconds(1));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);
  EXPECT_EQ(events[0].alert.severity, Severity::kCritical);
  EXPECT_EQ(events[0].alert.labels.at("replica"), "r1");

  EXPECT_TRUE(
      evaluator->evaluate({sample("deepseek_replica_up", replica, 0)}, kT0 + seconds(2)).empty());
  events = evaluator->evaluate({sample("deepseek_replica_up", replica, 1)}, kT0 + seconds(3));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kResolved);
}

TEST(EvaluatorTest, MatchersSelectTheirSeries) {
  const std::string metric = "deepseek_queue_length";
  RuleConfig equal = staticRule("Equal", metric, 1, std::nullopt);
  equal.matchers = {{"model", Matcher::Op::kEqual, "a"}};
  RuleConfig not_equal = staticRule("NotEqual", metric, 1, std::nullopt);
  not_equal.matchers = {{"model", Matcher::Op::kNotEqual, "a"}};
  RuleConfig regex = staticRule("Regex", metric, 1, std::nullopt);
  regex.matchers = {{"model", Matcher::Op::kRegex, "a|b"}};
  RuleConfig not_regex = staticRule("NotRegex", metric, 1, std::nullopt);
  not_regex.matchers = {{"model", Matcher::Op::kNotRegex, "a|b"}};
  RuleConfig anchored = staticRule("Anchored", metric, 1, std::nullopt);
  anchored.matchers = {{"model", Matcher::Op::kRegex, "b"}};  // Must not match "bb".
  auto evaluator = makeEvaluator({equal, not_equal, regex, not_regex, anchored});
  ASSERT_NE(evaluator, nullptr);

  const std::vector<PromSample> samples = {
      sample(metric, {{"model", "a"}}, 5),           sample(metric, {{"model", "b"}}, 5),
      sample(metric, {{"model", "bb"}}, 5),          sample(metric, {{"model", "c"}}, 5),
      sample("deepseek_other", {{"model", "a"}}, 5),  // Another metric: never selected.
  };
  evaluator->evaluate(samples, kT0);
  std::map<std::string, std::set<std::string>> models_by_rule;
  for (const Alert& alert : firing(*evaluator)) {
    models_by_rule[alert.rule].insert(alert.labels.at("model"));
  }
  using Models = std::set<std::string>;
  EXPECT_EQ(models_by_rule["Equal"], (Models{"a"}));
  EXPECT_EQ(models_by_rule["NotEqual"], (Models{"b", "bb", "c"}));
  EXPECT_EQ(models_by_rule["Regex"], (Models{"a", "b"}));
  EXPECT_EQ(models_by_rule["NotRegex"], (Models{"bb", "c"}));
  EXPECT_EQ(models_by_rule["Anchored"], (Models{"b"}));
}

TEST(EvaluatorTest, AMissingLabelMatchesAsEmpty) {
  RuleConfig rule = staticRule("Q", "deepseek_queue_length", 1, std::nullopt);
  rule.matchers = {{"model", Matcher::Op::kNotEqual, "a"}};
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  EXPECT_EQ(evaluator->evaluate({sample("deepseek_queue_length", {}, 5)}, kT0).size(), 1u);
}

TEST(EvaluatorTest, DifferentLabelSetsAreDifferentInstances) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  const std::vector<AlertEvent> events = evaluator->evaluate(
      {sample("deepseek_latency_p99_seconds", {{"model", "a"}, {"window", "1m"}}, 0.6),
       sample("deepseek_latency_p99_seconds", {{"model", "b"}, {"window", "1m"}}, 0.9)},
      kT0);
  ASSERT_EQ(events.size(), 2u);
  const std::vector<Alert> alerts = evaluator->alerts();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_NE(alerts[0].fingerprint, alerts[1].fingerprint);
  EXPECT_NE(alerts[0].labels.at("model"), alerts[1].labels.at("model"));
  for (const Alert& alert : alerts) {
    EXPECT_EQ(alert.fingerprint, fingerprint(alert.labels));
    EXPECT_EQ(alert.severity,
              alert.labels.at("model") == "a" ? Severity::kWarning : Severity::kCritical);
  }
}

TEST(EvaluatorTest, AFiringAlertWhoseSeriesDisappearsResolves) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  ASSERT_EQ(evalLatency(*evaluator, 0.9, kT0).size(), 1u);
  const std::vector<AlertEvent> events = evaluator->evaluate({}, kT0 + seconds(1));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kResolved);
  EXPECT_EQ(events[0].alert.resolved_at, kT0 + seconds(1));
  // Reported as resolved once, then gone.
  std::vector<Alert> alerts = evaluator->alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kResolved);
  EXPECT_TRUE(evaluator->evaluate({}, kT0 + seconds(2)).empty());
  EXPECT_TRUE(evaluator->alerts().empty());
}

TEST(EvaluatorTest, AResolvedAlertCanFireAgain) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  ASSERT_EQ(evalLatency(*evaluator, 0.6, kT0).size(), 1u);
  ASSERT_EQ(evalLatency(*evaluator, 0.1, kT0 + seconds(1)).size(), 1u);
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.6, kT0 + seconds(2));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);
  EXPECT_EQ(events[0].alert.active_since, kT0 + seconds(2));
}

TEST(EvaluatorTest, MinSamplesHoldsTheStateOfAThinSeries) {
  RuleConfig rule = latencyRule();
  rule.min_samples = 20;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  auto eval = [&](double latency, double requests, TimePoint t) {
    return evaluator->evaluate({sample("deepseek_latency_p99_seconds", kSeries, latency),
                                sample("deepseek_window_requests", kSeries, requests)},
                               t);
  };
  // Too few requests: no judgement, no alert.
  EXPECT_TRUE(eval(0.9, 5, kT0).empty());
  EXPECT_TRUE(evaluator->alerts().empty());
  // No request count at all: also no judgement.
  EXPECT_TRUE(evalLatency(*evaluator, 0.9, kT0 + seconds(1)).empty());
  // A request count of another version does not count.
  EXPECT_TRUE(evaluator
                  ->evaluate({sample("deepseek_latency_p99_seconds", kSeries, 0.9),
                              sample("deepseek_window_requests",
                                     {{"model", "m"}, {"version", "v2"}, {"window", "1m"}}, 100)},
                             kT0 + seconds(2))
                  .empty());

  std::vector<AlertEvent> events = eval(0.9, 25, kT0 + seconds(3));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);

  // Thin again: a firing alert keeps firing even though the value looks fine.
  EXPECT_TRUE(eval(0.1, 5, kT0 + seconds(4)).empty());
  ASSERT_EQ(firing(*evaluator).size(), 1u);
  events = eval(0.1, 25, kT0 + seconds(5));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kResolved);
}

// A dynamic-band rule on a steady series of 100 with noise of +-1.
class EvaluatorBandTest : public ::testing::TestWithParam<DynamicBand::Method> {
 protected:
  RuleConfig bandRule() const {
    RuleConfig rule;
    rule.name = "QueueAnomaly";
    rule.metric = "deepseek_queue_length";
    DynamicBand band;
    band.method = GetParam();
    band.window = seconds(60);
    band.k_warning = 3;
    band.k_critical = 6;
    band.warmup = 30;
    rule.dynamic = band;
    return rule;
  }

  // Feeds `count` noisy observations of 100 from `*t` on, one per second; returns the events.
  std::vector<AlertEvent> warm(Evaluator& evaluator, int count, TimePoint* t) {
    std::vector<AlertEvent> events;
    for (int i = 0; i < count; ++i) {
      const double value = 100 + (random_.uniform() * 2 - 1);
      for (AlertEvent& e : evaluator.evaluate({sample("deepseek_queue_length", {}, value)}, *t)) {
        events.push_back(std::move(e));
      }
      *t += seconds(1);
    }
    return events;
  }

  std::vector<AlertEvent> eval(Evaluator& evaluator, double value, TimePoint t) {
    return evaluator.evaluate({sample("deepseek_queue_length", {}, value)}, t);
  }

  Random random_{42};
};

TEST_P(EvaluatorBandTest, AJumpFiresCriticalAndNoiseDoesNot) {
  auto evaluator = makeEvaluator({bandRule()});
  ASSERT_NE(evaluator, nullptr);
  TimePoint t = kT0;
  EXPECT_TRUE(warm(*evaluator, 200, &t).empty()) << "the band's own noise must not alert";
  EXPECT_TRUE(eval(*evaluator, 101, t).empty());
  t += seconds(1);
  const std::vector<AlertEvent> events = eval(*evaluator, 200, t);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertEvent::Kind::kFired);
  EXPECT_EQ(events[0].alert.severity, Severity::kCritical);
}

TEST_P(EvaluatorBandTest, DoesNotAlertDuringWarmup) {
  auto evaluator = makeEvaluator({bandRule()});
  ASSERT_NE(evaluator, nullptr);
  TimePoint t = kT0;
  EXPECT_TRUE(warm(*evaluator, 10, &t).empty());
  EXPECT_TRUE(eval(*evaluator, 200, t).empty());
  EXPECT_TRUE(evaluator->alerts().empty());
}

TEST_P(EvaluatorBandTest, StaticTiersFloorTheBand) {
  RuleConfig rule = bandRule();
  rule.warning = 150;
  rule.critical = 300;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  TimePoint t = kT0;
  EXPECT_TRUE(warm(*evaluator, 200, &t).empty());
  // Far outside the band but under the static warning: normal.
  EXPECT_TRUE(eval(*evaluator, 120, t).empty());
  t += seconds(1);
  // Above the static warning, under the static critical: a warning only.
  const std::vector<AlertEvent> events = eval(*evaluator, 160, t);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].alert.severity, Severity::kWarning);
}

// Bug: with a static warning and no static critical, the band's critical threshold is not
// floored (src/detect/evaluator.cc, Evaluator::evaluate: `critical = floor(c, rule.critical)`
// leaves c as it is when rule.critical is unset), so 120, under the static warning of 150,
// fires kFired with severity kCritical. Enable once fixed.
TEST_P(EvaluatorBandTest, AStaticWarningAloneFloorsTheBand) {
  RuleConfig rule = bandRule();
  rule.warning = 150;
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  TimePoint t = kT0;
  EXPECT_TRUE(warm(*evaluator, 200, &t).empty());
  EXPECT_TRUE(eval(*evaluator, 120, t).empty());
  EXPECT_TRUE(evaluator->alerts().empty());
}

INSTANTIATE_TEST_SUITE_P(Methods, EvaluatorBandTest,
                         ::testing::Values(DynamicBand::Method::kEwma, DynamicBand::Method::kMad),
                         [](const auto& info) {
                           return info.param == DynamicBand::Method::kEwma ? "Ewma" : "Mad";
                         });

TEST(EvaluatorTest, FillsAnnotationsAndLabels) {
  RuleConfig rule = latencyRule();
  rule.labels = {{"team", "ml"}, {"source", "deepwatch"}};
  rule.annotations = {{"summary", "{{ $labels.model }} at {{ $value }}"},
                      {"missing", "[{{ $labels.nope }}]"}};
  auto evaluator = makeEvaluator({rule});
  ASSERT_NE(evaluator, nullptr);
  const Labels labels = {{"__name__", "deepseek_latency_p99_seconds"},
                         {"model", "m"},
                         {"version", "v1"},
                         {"window", "1m"}};
  const std::vector<AlertEvent> events = evalLatency(*evaluator, 0.75, kT0, labels);
  ASSERT_EQ(events.size(), 1u);
  const Alert& alert = events[0].alert;
  EXPECT_EQ(alert.rule, "LatencyP99High");
  EXPECT_EQ(alert.annotations.at("summary"), "m at 0.75");
  EXPECT_EQ(alert.annotations.at("missing"), "[]");
  const LabelSet expected = {{"alertname", "LatencyP99High"},
                             {"severity", "warning"},
                             {"team", "ml"},
                             {"source", "deepwatch"},
                             {"model", "m"},
                             {"version", "v1"},
                             {"window", "1m"}};
  EXPECT_EQ(alert.labels, expected);
  EXPECT_EQ(alert.labels.count("__name__"), 0u);
  EXPECT_EQ(alert.fingerprint, fingerprint(expected));
}

TEST(EvaluatorTest, IgnoresNaNValues) {
  auto evaluator = makeEvaluator({latencyRule()});
  ASSERT_NE(evaluator, nullptr);
  EXPECT_TRUE(evalLatency(*evaluator, NAN, kT0).empty());
  EXPECT_TRUE(evaluator->alerts().empty());
}

}  // namespace
}  // namespace dw::detect
