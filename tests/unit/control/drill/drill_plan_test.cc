#include "control/drill/drill_plan.h"

#include <gtest/gtest.h>

namespace dw::control::drill {
namespace {

TEST(DrillPlanTest, AllIsEverySixFaultsInDrillOrder) {
  auto faults = parseFaults("all");
  ASSERT_TRUE(faults.ok());
  ASSERT_EQ(faults->size(), 6u);
  EXPECT_EQ(faults->front(), FaultKind::kReplicaCrash);
  EXPECT_EQ(faults->back(), FaultKind::kSinkOutage);
}

TEST(DrillPlanTest, AListKeepsTheDrillOrderWhateverTheOrderGiven) {
  auto faults = parseFaults("sink-outage, replica-crash");
  ASSERT_TRUE(faults.ok()) << faults.status().message();
  ASSERT_EQ(faults->size(), 2u);
  EXPECT_EQ((*faults)[0], FaultKind::kReplicaCrash);
  EXPECT_EQ((*faults)[1], FaultKind::kSinkOutage);
}

TEST(DrillPlanTest, UnknownAndDuplicateNamesAreErrorsThatListTheKnownOnes) {
  auto unknown = parseFaults("replica-crash,meteor");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'meteor'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("primaries-down"), std::string::npos);
  auto twice = parseFaults("input-drift,input-drift");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("twice"), std::string::npos);
  EXPECT_FALSE(parseFaults("").ok());
}

TEST(DrillPlanTest, RecoveryBudgetsAreTheRequirements) {
  // R5: restart 30 s, standby 60 s, rollback 120 s; R10: MTTR under 2 minutes.
  EXPECT_EQ(specOf(FaultKind::kReplicaCrash).recover_budget_s, 30);
  EXPECT_EQ(specOf(FaultKind::kPrimariesDown).recover_budget_s, 60);
  EXPECT_EQ(specOf(FaultKind::kDegradedQuality).recover_budget_s, 120);
  EXPECT_EQ(specOf(FaultKind::kSinkOutage).recover_budget_s, kMttrBudgetSeconds);
  for (const FaultSpec& spec : allFaults()) {
    EXPECT_EQ(spec.detect_budget_s, 30) << spec.name;
  }
  EXPECT_DOUBLE_EQ(kAvailabilityTarget, 0.9995);
}

}  // namespace
}  // namespace dw::control::drill
