#include "detect/alerting.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "observe/exposition.h"
#include "store/database.h"
#include "store/outbox_store.h"

namespace dw::detect {
namespace {

using json = nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint(seconds(1'700'000'000));
const std::string kFile = "gateway.yaml";

// Latency P99 at `latency` with 100 requests in the window, as the gateway exports it.
std::string metricsText(double latency, const std::string& model = "m") {
  return "deepseek_latency_p99_seconds{model=\"" + model + "\",version=\"v1\",window=\"1m\"} " +
         std::to_string(latency) + "\ndeepseek_window_requests{model=\"" + model +
         "\",version=\"v1\",window=\"1m\"} 100\n";
}

StatusOr<AlertingConfig> parse(const std::string& yaml) {
  return parseAlertingConfig(YAML::Load(yaml)["alerting"], kFile);
}

TEST(AlertingConfigTest, ParsesRulesSinksAndTimings) {
  auto config = parse(R"(
alerting:
  default_rules: false
  window: 5m
  group_wait: 10s
  group_interval: 2m
  repeat_interval: 1h
  resend_delay: 30s
  max_outbox: 500
  rules:
    - name: SlowModel
      expr: deepseek_latency_p99_seconds{window="5m",model=~"a|b"}
      warning: 0.4
      critical: 0.9
      for: 45s
      hysteresis: 0.1
      min_samples: 10
      dynamic: {method: mad}
      labels: {team: ml}
      annotations: {summary: "{{ $labels.model }} is slow"}
      group_by: [alertname, model, version]
    - name: Down
      expr: deepseek_replica_up
      critical: 0.5
      below: true
  sinks:
    - type: alertmanager
      url: http://am:9093
    - type: webhook
      name: chat
      url: http://hooks.local/x
    - type: log
)");
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_FALSE(config->default_rules);
  EXPECT_EQ(config->window, "5m");
  EXPECT_EQ(config->grouping.group_wait, seconds(10));
  EXPECT_EQ(config->grouping.group_interval, minutes(2));
  EXPECT_EQ(config->grouping.repeat_interval, std::chrono::hours(1));
  EXPECT_EQ(config->resend_delay, seconds(30));
  EXPECT_EQ(config->max_outbox, 500);

  ASSERT_EQ(config->rules.size(), 2u);
  const RuleConfig& rule = config->rules[0];
  EXPECT_EQ(rule.name, "SlowModel");
  EXPECT_EQ(rule.metric, "deepseek_latency_p99_seconds");
  ASSERT_EQ(rule.matchers.size(), 2u);
  EXPECT_EQ(rule.matchers[1].label, "model");
  EXPECT_EQ(rule.matchers[1].op, Matcher::Op::kRegex);
  EXPECT_EQ(rule.matchers[1].value, "a|b");
  ASSERT_TRUE(rule.warning && rule.critical);
  EXPECT_DOUBLE_EQ(*rule.warning, 0.4);
  EXPECT_DOUBLE_EQ(*rule.critical, 0.9);
  EXPECT_EQ(rule.for_duration, seconds(45));
  EXPECT_DOUBLE_EQ(rule.hysteresis, 0.1);
  EXPECT_EQ(rule.min_samples, 10u);
  ASSERT_TRUE(rule.dynamic.has_value());
  EXPECT_EQ(rule.dynamic->method, DynamicBand::Method::kMad);
  EXPECT_EQ(rule.labels, (LabelSet{{"team", "ml"}}));
  EXPECT_EQ(rule.annotations.at("summary"), "{{ $labels.model }} is slow");
  EXPECT_EQ(rule.group_by, (std::vector<std::string>{"alertname", "model", "version"}));

  const RuleConfig& down = config->rules[1];
  EXPECT_TRUE(down.below);
  EXPECT_FALSE(down.warning.has_value());
  EXPECT_FALSE(down.dynamic.has_value());
  EXPECT_EQ(down.group_by, (std::vector<std::string>{"alertname", "model"}));

  ASSERT_EQ(config->sinks.size(), 3u);
  EXPECT_EQ(config->sinks[0].kind, SinkConfig::Kind::kAlertmanager);
  EXPECT_EQ(config->sinks[0].name, "alertmanager");
  EXPECT_EQ(config->sinks[0].url, "http://am:9093");
  EXPECT_EQ(config->sinks[1].kind, SinkConfig::Kind::kWebhook);
  EXPECT_EQ(config->sinks[1].name, "chat");
  EXPECT_EQ(config->sinks[1].url, "http://hooks.local/x");
  EXPECT_EQ(config->sinks[2].kind, SinkConfig::Kind::kLog);
}

TEST(AlertingConfigTest, NoSinksMeansALogSink) {
  auto config = parse("alerting:\n  enabled: true\n");
  ASSERT_TRUE(config.ok()) << config.status().toString();
  ASSERT_EQ(config->sinks.size(), 1u);
  EXPECT_EQ(config->sinks[0].kind, SinkConfig::Kind::kLog);
  EXPECT_TRUE(config->default_rules);
  EXPECT_TRUE(config->rules.empty());
}

TEST(AlertingConfigTest, ABadSelectorNamesItsPlace) {
  auto config = parse(R"(alerting:
  rules:
    - name: Bad
      expr: "metric{a=x}"
      warning: 1
)");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message().rfind("gateway.yaml:4:13: alerting.rules[0].expr: ", 0), 0u)
      << config.status().message();
}

TEST(AlertingConfigTest, AnUnknownSinkTypeNamesItsPlace) {
  auto config = parse(R"(alerting:
  sinks:
    - type: pager
)");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().rfind("gateway.yaml:3:13: alerting.sinks[0].type: ", 0), 0u)
      << config.status().message();
}

TEST(AlertingConfigTest, RejectsARuleWithoutThresholds) {
  auto config = parse(R"(alerting:
  rules:
    - name: Empty
      expr: metric
)");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("alerting.rules[0]"), std::string::npos)
      << config.status().message();
}

TEST(AlertingConfigTest, RejectsAnHttpSinkWithoutUrl) {
  auto config = parse(R"(alerting:
  sinks:
    - type: webhook
)");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("alerting.sinks[0].url"), std::string::npos)
      << config.status().message();
}

TEST(AlertingConfigTest, RejectsAnUnknownKey) {
  auto config = parse(R"(alerting:
  rules:
    - name: R
      expr: metric
      warning: 1
      severity: high
)");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("severity"), std::string::npos)
      << config.status().message();
}

// Alerting on a database in a fresh directory, removed at the end of the test.
class AlertingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_alerting_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto db = store::Database::open((dir_ / "deepwatch.db").string());
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Alerting> create(const std::string& yaml) {
    auto config = parse(yaml);
    EXPECT_TRUE(config.ok()) << config.status().toString();
    if (!config.ok()) {
      return nullptr;
    }
    auto alerting = Alerting::create(*config, "deepseek", "1m", seconds(1), *db_);
    EXPECT_TRUE(alerting.ok()) << alerting.status().toString();
    return alerting.ok() ? std::move(alerting).value() : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(AlertingTest, DefaultRuleFiresAfterForAndShowsInAlertsJson) {
  auto alerting = create("alerting:\n  enabled: true\n");
  ASSERT_NE(alerting, nullptr);
  alerting->evaluate(metricsText(0.9), kT0);
  json state = json::parse(alerting->alertsJson(10));
  EXPECT_TRUE(state["active"].empty()) << "pending during `for`";

  alerting->evaluate(metricsText(0.9), kT0 + seconds(30));
  state = json::parse(alerting->alertsJson(10));
  ASSERT_EQ(state["active"].size(), 1u) << state.dump();
  const json& active = state["active"][0];
  EXPECT_EQ(active["rule"], "LatencyP99High");
  EXPECT_EQ(active["severity"], "critical");
  EXPECT_DOUBLE_EQ(active["value"].get<double>(), 0.9);
  EXPECT_EQ(active["labels"]["model"], "m");
  EXPECT_EQ(active["labels"]["alertname"], "LatencyP99High");
  EXPECT_EQ(active["since"], rfc3339(kT0 + seconds(30)));
  EXPECT_NE(active["annotations"]["summary"].get<std::string>().find("0.9"), std::string::npos);

  ASSERT_FALSE(state["history"].empty());
  const json& fired = state["history"][0];
  EXPECT_EQ(fired["kind"], "fired");
  EXPECT_EQ(fired["rule"], "LatencyP99High");
  EXPECT_EQ(fired["severity"], "critical");
  EXPECT_EQ(fired["labels"]["model"], "m");
}

TEST_F(AlertingTest, ResolutionIsRecordedInHistory) {
  auto alerting = create("alerting:\n  enabled: true\n");
  ASSERT_NE(alerting, nullptr);
  alerting->evaluate(metricsText(0.9), kT0);
  alerting->evaluate(metricsText(0.9), kT0 + seconds(30));
  alerting->evaluate(metricsText(0.1), kT0 + seconds(31));
  const json state = json::parse(alerting->alertsJson(10));
  EXPECT_TRUE(state["active"].empty());
  ASSERT_GE(state["history"].size(), 2u);
  EXPECT_EQ(state["history"][0]["kind"], "resolved");  // Newest first.
  EXPECT_EQ(state["history"][1]["kind"], "fired");
}

TEST_F(AlertingTest, DisabledAlertingDoesNothing) {
  auto alerting = create("alerting:\n  enabled: false\n");
  ASSERT_NE(alerting, nullptr);
  alerting->evaluate(metricsText(0.9), kT0);
  alerting->evaluate(metricsText(0.9), kT0 + seconds(30));
  const json state = json::parse(alerting->alertsJson(10));
  EXPECT_TRUE(state["active"].empty());
  EXPECT_TRUE(state["history"].empty());
}

TEST_F(AlertingTest, AnUnreachableAlertmanagerLeavesTheNotificationInTheOutbox) {
  auto alerting = create(R"(alerting:
  sinks:
    - type: alertmanager
      url: http://127.0.0.1:1
)");
  ASSERT_NE(alerting, nullptr);
  alerting->evaluate(metricsText(0.9), kT0);
  alerting->evaluate(metricsText(0.9), kT0 + seconds(30));

  auto outbox = store::OutboxStore::open(*db_);
  ASSERT_TRUE(outbox.ok()) << outbox.status().toString();
  auto size = outbox->size();
  ASSERT_TRUE(size.ok()) << size.status().toString();
  EXPECT_GT(*size, 0);
  auto due = outbox->due(
      std::chrono::duration_cast<std::chrono::milliseconds>((kT0 + seconds(30)).time_since_epoch())
          .count(),
      10);
  ASSERT_TRUE(due.ok()) << due.status().toString();
  ASSERT_FALSE(due->empty());
  EXPECT_EQ((*due)[0].sink, "alertmanager");
  EXPECT_EQ((*due)[0].url, "http://127.0.0.1:1/api/v2/alerts");
  const json body = json::parse((*due)[0].payload);
  ASSERT_TRUE(body.is_array());
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(body[0]["labels"]["alertname"], "LatencyP99High");
}

TEST_F(AlertingTest, AConfiguredRuleReplacesTheDefaultOfTheSameName) {
  auto alerting = create(R"(alerting:
  default_rules: true
  rules:
    - name: LatencyP99High
      expr: deepseek_latency_p99_seconds{window="1m"}
      warning: 2
      critical: 5
)");
  ASSERT_NE(alerting, nullptr);
  // 0.9 s would be critical under the default rule; the configured one calls it normal.
  alerting->evaluate(metricsText(0.9), kT0);
  alerting->evaluate(metricsText(0.9), kT0 + seconds(60));
  json state = json::parse(alerting->alertsJson(10));
  EXPECT_TRUE(state["active"].empty()) << state.dump();

  // The configured rule has no `for`: 3 s fires a warning at once, and only once.
  alerting->evaluate(metricsText(3), kT0 + seconds(61));
  state = json::parse(alerting->alertsJson(10));
  ASSERT_EQ(state["active"].size(), 1u) << state.dump();
  EXPECT_EQ(state["active"][0]["rule"], "LatencyP99High");
  EXPECT_EQ(state["active"][0]["severity"], "warning");
}

TEST_F(AlertingTest, WritesItsMetrics) {
  auto alerting = create("alerting:\n  enabled: true\n");
  ASSERT_NE(alerting, nullptr);
  alerting->evaluate(metricsText(0.9), kT0);
  alerting->evaluate(metricsText(0.9), kT0 + seconds(30));
  observe::ExpositionWriter writer;
  alerting->writeMetrics(writer, "deepseek");
  const std::string text = writer.release();
  EXPECT_NE(
      text.find(R"(deepseek_alerts_active{alertname="LatencyP99High",severity="critical"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(deepseek_alert_events_total{kind="fired"} 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace dw::detect
