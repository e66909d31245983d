#include "control/drill/drill_report.h"

#include <gtest/gtest.h>

#include "control/drill/drill_html.h"

namespace dw::control::drill {
namespace {

WindowStats requests(uint64_t total, uint64_t failed) {
  WindowStats w;
  w.requests = total;
  w.failed = failed;
  w.p99 = 0.05;
  if (failed > 0) {
    w.errors["503"] = failed;
  }
  return w;
}

FaultResult ran(FaultKind kind, std::optional<double> detect, std::optional<double> recover) {
  FaultResult f;
  f.kind = kind;
  f.ran = true;
  f.injected_at = 10;
  f.ended_at = 40;
  f.detect_s = detect;
  f.recover_s = recover;
  f.waited_s = 60;
  f.requests = requests(300, 0);
  return f;
}

DrillReport healthy() {
  DrillReport r;
  r.duration_s = 100;
  r.requests = requests(100000, 10);  // 99.99%.
  r.faults.push_back(ran(FaultKind::kReplicaCrash, 0.3, 4.2));
  r.faults.push_back(ran(FaultKind::kPrimariesDown, 2.5, 3.0));
  r.faults.push_back(ran(FaultKind::kDegradedQuality, 15, 15));
  return r;
}

const BudgetCheck& check(const DrillReport& r, const std::string& name) {
  for (const BudgetCheck& c : r.checks) {
    if (c.name == name) {
      return c;
    }
  }
  ADD_FAILURE() << "no check " << name;
  static const BudgetCheck kNone;
  return kNone;
}

TEST(DrillReportTest, EveryBudgetMetPasses) {
  DrillReport r = healthy();
  evaluateBudgets(r);
  EXPECT_TRUE(r.passed);
  // Two per fault, MTTR and availability.
  EXPECT_EQ(r.checks.size(), 3u * 2 + 2);
  EXPECT_NEAR(*check(r, "mttr").measured, (4.2 + 3.0 + 15) / 3, 1e-9);
  EXPECT_NEAR(*check(r, "availability").measured, 0.9999, 1e-9);
  EXPECT_EQ(check(r, "replica-crash.recover").budget, 30);
  EXPECT_EQ(check(r, "primaries-down.recover").budget, 60);
  EXPECT_EQ(check(r, "degraded-quality.recover").budget, 120);
}

TEST(DrillReportTest, ARecoveryOverItsBudgetFailsThatCheckAndTheDrill) {
  DrillReport r = healthy();
  r.faults[0].recover_s = 31;  // R5 L1: 30 s.
  evaluateBudgets(r);
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(check(r, "replica-crash.recover").passed);
  EXPECT_DOUBLE_EQ(*check(r, "replica-crash.recover").measured, 31);
  EXPECT_TRUE(check(r, "replica-crash.detect").passed);
  EXPECT_TRUE(check(r, "mttr").passed);
}

TEST(DrillReportTest, ADetectionOver30SecondsFails) {
  DrillReport r = healthy();
  r.faults[2].detect_s = 30.5;
  evaluateBudgets(r);
  EXPECT_FALSE(check(r, "degraded-quality.detect").passed);
  EXPECT_FALSE(r.passed);
}

TEST(DrillReportTest, NeverRecoveredFailsRecoveryAndMttrAndSaysHowLongItWaited) {
  DrillReport r = healthy();
  r.faults[1].recover_s.reset();
  evaluateBudgets(r);
  const BudgetCheck& recover = check(r, "primaries-down.recover");
  EXPECT_FALSE(recover.passed);
  EXPECT_FALSE(recover.measured.has_value());
  EXPECT_NE(recover.note.find("60 s"), std::string::npos) << recover.note;
  EXPECT_FALSE(check(r, "mttr").passed);
  EXPECT_FALSE(r.passed);
}

TEST(DrillReportTest, AvailabilityUnder9995Fails) {
  DrillReport r = healthy();
  r.requests = requests(10000, 6);  // 99.94%.
  evaluateBudgets(r);
  EXPECT_FALSE(check(r, "availability").passed);
  EXPECT_EQ(check(r, "availability").note, "6 of 10000 requests failed (503: 6)");
  EXPECT_FALSE(r.passed);
  r.requests = requests(10000, 5);  // 99.95% exactly passes.
  evaluateBudgets(r);
  EXPECT_TRUE(check(r, "availability").passed);
}

TEST(DrillReportTest, ASkippedFaultFailsItsRanCheck) {
  DrillReport r = healthy();
  FaultResult skipped;
  skipped.kind = FaultKind::kSinkOutage;
  skipped.skip_reason = "no sink";
  r.faults.push_back(skipped);
  evaluateBudgets(r);
  EXPECT_FALSE(check(r, "sink-outage.ran").passed);
  EXPECT_EQ(check(r, "sink-outage.ran").note, "no sink");
  EXPECT_FALSE(r.passed);
}

TEST(DrillReportTest, JsonHasEveryFaultCheckAndTimelineEvent) {
  DrillReport r = healthy();
  r.timeline.push_back(TimelineEvent{10, "inject", "replica-crash", "POST /fault"});
  r.faults[1].recover_s.reset();
  evaluateBudgets(r);
  const auto j = toJson(r);
  EXPECT_EQ(j["kind"], "deepwatch-drill");
  EXPECT_EQ(j["passed"], false);
  ASSERT_EQ(j["faults"].size(), 3u);
  EXPECT_EQ(j["faults"][0]["name"], "replica-crash");
  EXPECT_DOUBLE_EQ(j["faults"][0]["recover_seconds"].get<double>(), 4.2);
  EXPECT_TRUE(j["faults"][1]["recover_seconds"].is_null());
  EXPECT_EQ(j["checks"].size(), r.checks.size());
  EXPECT_EQ(j["timeline"][0]["kind"], "inject");
  for (const auto& c : j["checks"]) {
    EXPECT_TRUE(c.contains("measured") && c.contains("budget") && c.contains("passed"));
  }
}

TEST(DrillReportTest, HtmlShowsTheVerdictAndEscapesDeploymentText) {
  DrillReport r = healthy();
  r.timeline.push_back(
      TimelineEvent{12, "control", "", "l1_restart fortune v1: <script>alert(1)</script>"});
  r.faults[0].recovered_by = "back & healthy";
  evaluateBudgets(r);
  const std::string html = renderDrillHtml(r);
  EXPECT_NE(html.find("PASS"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("back &amp; healthy"), std::string::npos);
  r.faults[0].recover_s = 99;
  evaluateBudgets(r);
  EXPECT_NE(renderDrillHtml(r).find("FAIL"), std::string::npos);
}

}  // namespace
}  // namespace dw::control::drill
