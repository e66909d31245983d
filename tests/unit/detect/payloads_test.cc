#include "detect/payloads.h"

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dw::detect {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint(seconds(1'700'000'000));  // 2023-11-14T22:13:20Z

Alert firingAlert(const std::string& replica) {
  Alert alert;
  alert.rule = "LatencyP99High";
  alert.labels = {{"alertname", "LatencyP99High"},
                  {"model", "m"},
                  {"replica", replica},
                  {"severity", "warning"}};
  alert.annotations = {{"summary", "slow"}};
  alert.state = AlertState::kFiring;
  alert.severity = Severity::kWarning;
  alert.active_since = kT0;
  alert.fingerprint = fingerprint(alert.labels);
  return alert;
}

TEST(PayloadTimestampTest, FormatsKnownInstants) {
  EXPECT_EQ(rfc3339(TimePoint{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc3339(kT0), "2023-11-14T22:13:20Z");
  EXPECT_EQ(rfc3339(TimePoint(seconds(951'782'400))), "2000-02-29T00:00:00Z");
  // Whole seconds: the fraction is dropped.
  EXPECT_EQ(rfc3339(kT0 + milliseconds(999)), "2023-11-14T22:13:20Z");
}

TEST(AlertmanagerPayloadTest, IsAnArrayOfAlertsInTheApiShape) {
  Alert firing = firingAlert("r1");
  Alert done = firingAlert("r2");
  done.state = AlertState::kResolved;
  done.resolved_at = kT0 + seconds(50);
  const TimePoint now = kT0 + seconds(100);
  const json body = json::parse(
      alertmanagerAlertsJson({firing, done}, now, minutes(4), "http://deepwatch/alerts"));
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  for (const json& alert : body) {
    EXPECT_EQ(alert.size(), 5u) << alert.dump();
    EXPECT_TRUE(alert["labels"].is_object());
    EXPECT_TRUE(alert["annotations"].is_object());
    EXPECT_EQ(alert["startsAt"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(alert["generatorURL"], "http://deepwatch/alerts");
  }
  EXPECT_EQ(body[0]["labels"]["alertname"], "LatencyP99High");
  EXPECT_EQ(body[0]["labels"]["replica"], "r1");
  EXPECT_EQ(body[0]["annotations"]["summary"], "slow");
  // Firing: now + lease (100 s + 4 min after kT0).
  EXPECT_EQ(body[0]["endsAt"], "2023-11-14T22:19:00Z");
  // Resolved: when it resolved.
  EXPECT_EQ(body[1]["endsAt"], "2023-11-14T22:14:10Z");
}

TEST(AlertmanagerPayloadTest, DropsEmptyLabelValues) {
  Alert alert = firingAlert("");
  alert.annotations["empty"] = "";
  const json body = json::parse(alertmanagerAlertsJson({alert}, kT0, minutes(4), ""));
  ASSERT_EQ(body.size(), 1u);
  EXPECT_FALSE(body[0]["labels"].contains("replica"));
  EXPECT_TRUE(body[0]["labels"].contains("model"));
  EXPECT_FALSE(body[0]["annotations"].contains("empty"));
}

TEST(AlertmanagerPayloadTest, NoAlertsIsAnEmptyArray) {
  const json body = json::parse(alertmanagerAlertsJson({}, kT0, minutes(4), ""));
  EXPECT_TRUE(body.is_array());
  EXPECT_TRUE(body.empty());
}

TEST(WebhookPayloadTest, HasTheAlertmanagerWebhookShape) {
  Alert firing = firingAlert("r1");
  firing.fingerprint = 0xabc;
  Alert done = firingAlert("r2");
  done.state = AlertState::kResolved;
  done.resolved_at = kT0 + seconds(50);
  Notification n;
  n.group_key = R"({alertname="LatencyP99High",model="m",})";
  n.group_labels = {{"alertname", "LatencyP99High"}, {"model", "m"}};
  n.status = "firing";
  n.alerts = {firing, done};
  n.firing = 1;
  n.at = kT0 + seconds(60);

  const json body = json::parse(webhookJson(n, "hook"));
  EXPECT_EQ(body["version"], "4");
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["receiver"], "hook");
  EXPECT_EQ(body["groupKey"], n.group_key);
  EXPECT_EQ(body["groupLabels"], (json{{"alertname", "LatencyP99High"}, {"model", "m"}}));
  // Only the labels every member shares: replica differs.
  EXPECT_EQ(body["commonLabels"],
            (json{{"alertname", "LatencyP99High"}, {"model", "m"}, {"severity", "warning"}}));
  EXPECT_EQ(body["count"], 2);
  EXPECT_EQ(body["firing"], 1);
  ASSERT_EQ(body["alerts"].size(), 2u);

  const json& first = body["alerts"][0];
  EXPECT_EQ(first["status"], "firing");
  EXPECT_EQ(first["labels"]["replica"], "r1");
  EXPECT_EQ(first["startsAt"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(first["endsAt"], "0001-01-01T00:00:00Z");  // Go's zero time: still firing.
  EXPECT_EQ(first["fingerprint"], "0000000000000abc");

  const json& second = body["alerts"][1];
  EXPECT_EQ(second["status"], "resolved");
  EXPECT_EQ(second["endsAt"], "2023-11-14T22:14:10Z");
  const std::string fp = second["fingerprint"];
  EXPECT_TRUE(std::regex_match(fp, std::regex("[0-9a-f]{16}"))) << fp;
}

TEST(WebhookPayloadTest, AResolvedGroupSaysResolved) {
  Alert done = firingAlert("r1");
  done.state = AlertState::kResolved;
  done.resolved_at = kT0;
  Notification n;
  n.group_labels = {{"alertname", "LatencyP99High"}};
  n.status = "resolved";
  n.alerts = {done};
  const json body = json::parse(webhookJson(n, "hook"));
  EXPECT_EQ(body["status"], "resolved");
  EXPECT_EQ(body["count"], 1);
  EXPECT_EQ(body["firing"], 0);
  // One member: all its labels are common.
  EXPECT_EQ(body["commonLabels"].size(), 4u);
}

}  // namespace
}  // namespace dw::detect
