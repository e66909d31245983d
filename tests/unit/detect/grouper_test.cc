#include "detect/grouper.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dw::detect {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint(seconds(1'700'000'000));

Alert makeAlert(const std::string& model, const std::string& replica,
                Severity severity = Severity::kWarning, TimePoint since = kT0) {
  Alert alert;
  alert.rule = "ReplicaSlow";
  alert.labels = {{"alertname", "ReplicaSlow"},
                  {"model", model},
                  {"replica", replica},
                  {"severity", std::string(severityName(severity))}};
  alert.state = AlertState::kFiring;
  alert.severity = severity;
  alert.value = 1;
  alert.active_since = since;
  alert.fingerprint = fingerprint(alert.labels);
  return alert;
}

Alert resolved(Alert alert, TimePoint at) {
  alert.state = AlertState::kResolved;
  alert.resolved_at = at;
  return alert;
}

class GrouperTest : public ::testing::Test {
 protected:
  GrouperTest()
      : grouper_(GroupingConfig{seconds(30), minutes(5), hours(4)}, [](const std::string&) {
          return std::vector<std::string>{"alertname", "model"};
        }) {}

  // Calls update() at every second in [from, to), with the alerts `at(t)` returns, and collects
  // the notifications.
  template <typename AlertsAt>
  std::vector<Notification> run(TimePoint from, TimePoint to, AlertsAt at,
                                Duration step = seconds(1)) {
    std::vector<Notification> out;
    for (TimePoint t = from; t < to; t += step) {
      for (Notification& n : grouper_.update(at(t), t)) {
        out.push_back(std::move(n));
      }
    }
    return out;
  }

  Grouper grouper_;
};

TEST_F(GrouperTest, HundredAlertsWithinGroupWaitGiveOneNotification) {
  std::vector<Alert> all;
  for (int i = 0; i < 100; ++i) {
    all.push_back(makeAlert("m", "r" + std::to_string(i)));
  }
  // Alert i shows up at second i % 25: all within the first 25 s.
  auto at = [&](TimePoint t) {
    std::vector<Alert> current;
    for (int i = 0; i < 100; ++i) {
      if (kT0 + seconds(i % 25) <= t) {
        current.push_back(all[i]);
      }
    }
    return current;
  };
  const std::vector<Notification> sent = run(kT0, kT0 + minutes(4), at);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].at, kT0 + seconds(30));
  EXPECT_EQ(sent[0].alerts.size(), 100u);
  EXPECT_EQ(sent[0].firing, 100u);
  EXPECT_EQ(sent[0].status, "firing");
  EXPECT_EQ(sent[0].group_labels, (LabelSet{{"alertname", "ReplicaSlow"}, {"model", "m"}}));
  EXPECT_EQ(grouper_.groups(), 1u);
}

TEST_F(GrouperTest, AlertsWithinGroupIntervalMergeIntoOneNotification) {
  std::vector<Alert> all;
  for (int i = 0; i < 200; ++i) {
    all.push_back(makeAlert("m", "r" + std::to_string(i)));
  }
  // The first 100 at kT0; the next 100 spread over the following 5 minutes, one every 2.9 s
  // from kT0 + 31 s (the last at kT0 + 318 s).
  auto arrival = [](int i) {
    return i < 100 ? kT0 : kT0 + seconds(31) + std::chrono::milliseconds(2900 * (i - 100));
  };
  auto at = [&](TimePoint t) {
    std::vector<Alert> current;
    for (int i = 0; i < 200; ++i) {
      if (arrival(i) <= t) {
        current.push_back(all[i]);
      }
    }
    return current;
  };
  const std::vector<Notification> sent = run(kT0, kT0 + minutes(10), at);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].at, kT0 + seconds(30));
  EXPECT_EQ(sent[0].alerts.size(), 100u);
  EXPECT_EQ(sent[1].at, kT0 + seconds(30) + minutes(5));
  EXPECT_EQ(sent[1].alerts.size(), 200u);
  EXPECT_EQ(sent[1].firing, 200u);
  EXPECT_EQ(sent[1].group_key, sent[0].group_key);
}

TEST_F(GrouperTest, DifferentModelsFormDifferentGroups) {
  auto at = [](TimePoint) {
    return std::vector<Alert>{makeAlert("a", "r1"), makeAlert("a", "r2"), makeAlert("b", "r1")};
  };
  const std::vector<Notification> sent = run(kT0, kT0 + minutes(1), at);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(grouper_.groups(), 2u);
  EXPECT_NE(sent[0].group_key, sent[1].group_key);
  for (const Notification& n : sent) {
    EXPECT_EQ(n.at, kT0 + seconds(30));
    EXPECT_EQ(n.alerts.size(), n.group_labels.at("model") == "a" ? 2u : 1u);
  }
}

TEST_F(GrouperTest, AnUnchangedFiringGroupIsRepeatedAfterRepeatInterval) {
  auto at = [](TimePoint) { return std::vector<Alert>{makeAlert("m", "r1")}; };
  std::vector<Notification> sent = run(kT0, kT0 + seconds(31), at);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].at, kT0 + seconds(30));
  // Every minute for just under 4 hours: nothing.
  sent = run(kT0 + seconds(90), kT0 + seconds(30) + hours(4), at, minutes(1));
  EXPECT_TRUE(sent.empty());
  EXPECT_TRUE(grouper_.update(at(kT0), kT0 + seconds(29) + hours(4)).empty());
  sent = grouper_.update(at(kT0), kT0 + seconds(30) + hours(4));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, "firing");
  EXPECT_EQ(sent[0].alerts.size(), 1u);
}

TEST_F(GrouperTest, AllMembersResolvedGiveOneResolvedNotification) {
  const Alert a = makeAlert("m", "r1");
  const Alert b = makeAlert("m", "r2");
  const TimePoint resolve_at = kT0 + minutes(1);
  auto at = [&](TimePoint t) {
    if (t < resolve_at) {
      return std::vector<Alert>{a, b};
    }
    if (t == resolve_at) {  // The evaluator reports a resolved alert once.
      return std::vector<Alert>{resolved(a, t), resolved(b, t)};
    }
    return std::vector<Alert>{};
  };
  const std::vector<Notification> sent = run(kT0, kT0 + minutes(15), at);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].status, "firing");
  EXPECT_EQ(sent[1].status, "resolved");
  EXPECT_EQ(sent[1].at, sent[0].at + minutes(5));
  EXPECT_EQ(sent[1].firing, 0u);
  ASSERT_EQ(sent[1].alerts.size(), 2u);
  for (const Alert& alert : sent[1].alerts) {
    EXPECT_EQ(alert.state, AlertState::kResolved);
    EXPECT_EQ(alert.resolved_at, resolve_at);
  }
  EXPECT_EQ(grouper_.groups(), 0u);
}

TEST_F(GrouperTest, PartlyResolvedGroupTellsTheResolvedMembersOnce) {
  const Alert a = makeAlert("m", "r1");
  const Alert b = makeAlert("m", "r2");
  const TimePoint resolve_at = kT0 + minutes(1);
  auto at = [&](TimePoint t) {
    if (t < resolve_at) {
      return std::vector<Alert>{a, b};
    }
    if (t == resolve_at) {
      return std::vector<Alert>{a, resolved(b, t)};
    }
    return std::vector<Alert>{a};
  };
  const std::vector<Notification> sent = run(kT0, kT0 + minutes(15), at);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].at, kT0 + seconds(30) + minutes(5));
  EXPECT_EQ(sent[1].status, "firing");
  EXPECT_EQ(sent[1].firing, 1u);
  EXPECT_EQ(sent[1].alerts.size(), 2u);
  EXPECT_EQ(grouper_.groups(), 1u);
}

TEST_F(GrouperTest, AGroupResolvedBeforeGroupWaitSendsNothing) {
  const Alert a = makeAlert("m", "r1");
  auto at = [&](TimePoint t) {
    if (t < kT0 + seconds(10)) {
      return std::vector<Alert>{a};
    }
    if (t == kT0 + seconds(10)) {
      return std::vector<Alert>{resolved(a, t)};
    }
    return std::vector<Alert>{};
  };
  EXPECT_TRUE(run(kT0, kT0 + minutes(10), at).empty());
  EXPECT_EQ(grouper_.groups(), 0u);
}

TEST_F(GrouperTest, ASeverityChangeCountsAsAChange) {
  const Alert warning = makeAlert("m", "r1", Severity::kWarning);
  const Alert critical = makeAlert("m", "r1", Severity::kCritical);
  auto at = [&](TimePoint t) {
    return std::vector<Alert>{t < kT0 + minutes(2) ? warning : critical};
  };
  const std::vector<Notification> sent = run(kT0, kT0 + minutes(10), at);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].at, kT0 + seconds(30));
  EXPECT_EQ(sent[1].at, kT0 + seconds(30) + minutes(5));
  ASSERT_EQ(sent[1].alerts.size(), 1u);  // The same member, updated.
  EXPECT_EQ(sent[1].alerts[0].severity, Severity::kCritical);
  EXPECT_EQ(sent[1].alerts[0].labels.at("severity"), "critical");
}

TEST_F(GrouperTest, GroupByUsesTheRuleOfEachAlert) {
  Grouper grouper(GroupingConfig{seconds(30), minutes(5), hours(4)}, [](const std::string& rule) {
    return rule == "ReplicaSlow" ? std::vector<std::string>{"alertname", "replica"}
                                 : std::vector<std::string>{"alertname"};
  });
  EXPECT_TRUE(
      grouper.update({makeAlert("a", "r1"), makeAlert("b", "r1"), makeAlert("a", "r2")}, kT0)
          .empty());
  const std::vector<Notification> sent = grouper.update(
      {makeAlert("a", "r1"), makeAlert("b", "r1"), makeAlert("a", "r2")}, kT0 + seconds(30));
  ASSERT_EQ(sent.size(), 2u);
  for (const Notification& n : sent) {
    EXPECT_EQ(n.alerts.size(), n.group_labels.at("replica") == "r1" ? 2u : 1u);
  }
}

}  // namespace
}  // namespace dw::detect
