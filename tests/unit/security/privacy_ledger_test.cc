#include "security/privacy_ledger.h"

#include <stdlib.h>

#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/database.h"

namespace dw::security {
namespace {

// A ledger in a fresh directory under the system temp directory, removed at the end.
class PrivacyLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_dp_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }
  void TearDown() override {
    ledger_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Closes and opens the database file again, as a restart would.
  void reopen(double default_budget = 1.0) {
    ledger_.reset();
    db_.reset();
    StatusOr<std::unique_ptr<store::Database>> db =
        store::Database::open((dir_ / "deepwatch.db").string());
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
    StatusOr<PrivacyLedger> ledger = PrivacyLedger::open(*db_, default_budget);
    ASSERT_TRUE(ledger.ok()) << ledger.status().toString();
    ledger_.emplace(std::move(ledger).value());
  }

  double spent(const std::string& release) {
    auto value = ledger_->spent(release);
    EXPECT_TRUE(value.ok()) << value.status().toString();
    return value.ok() ? *value : -1;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::optional<PrivacyLedger> ledger_;
};

TEST_F(PrivacyLedgerTest, SpendsUpToTheBudgetAndRefusesPastIt) {
  const std::string release = "report/2026-W48";
  ASSERT_TRUE(ledger_->setBudget(release, 1.0).ok());
  // 0.1 + 0.2 + 0.7 is exactly the budget in micro-epsilons (in doubles it is 1.0000000000000002).
  ASSERT_TRUE(ledger_->spend(release, 0.1, "weekly counts", 1000).ok());
  ASSERT_TRUE(ledger_->spend(release, 0.2, "weekly counts", 2000).ok());
  ASSERT_TRUE(ledger_->spend(release, 0.7, "weekly counts", 3000).ok());
  EXPECT_DOUBLE_EQ(spent(release), 1.0);
  EXPECT_DOUBLE_EQ(*ledger_->remaining(release), 0.0);

  const Status refused = ledger_->spend(release, 1e-6, "one more", 4000);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("report/2026-W48"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("spent 1 of 1"), std::string::npos) << refused.message();
  EXPECT_DOUBLE_EQ(spent(release), 1.0);

  auto spends = ledger_->spends(release);
  ASSERT_TRUE(spends.ok());
  ASSERT_EQ(spends->size(), 3u);
  EXPECT_EQ((*spends)[0].at_ms, 1000);
  EXPECT_DOUBLE_EQ((*spends)[2].epsilon, 0.7);
  EXPECT_EQ((*spends)[2].purpose, "weekly counts");
}

TEST_F(PrivacyLedgerTest, RefusesASpendThatWouldOvershoot) {
  ASSERT_TRUE(ledger_->setBudget("baseline/fortune", 0.5).ok());
  ASSERT_TRUE(ledger_->spend("baseline/fortune", 0.4, "p95 latency", 1).ok());
  const Status refused = ledger_->spend("baseline/fortune", 0.2, "p99 latency", 2);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("spent 0.4 of 0.5, asked 0.2"), std::string::npos)
      << refused.message();
  EXPECT_DOUBLE_EQ(spent("baseline/fortune"), 0.4);
  EXPECT_NEAR(*ledger_->remaining("baseline/fortune"), 0.1, 1e-12);
  // What still fits is accepted.
  EXPECT_TRUE(ledger_->spend("baseline/fortune", 0.1, "p50 latency", 3).ok());
}

TEST_F(PrivacyLedgerTest, RefusesNonPositiveNanAndInfiniteEpsilon) {
  const double bad[] = {0.0,
                        -0.0,
                        -1.0,
                        -10.0,
                        std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(),
                        -std::numeric_limits<double>::infinity(),
                        1e-9,   // rounds to 0 micro-epsilons
                        1e10};  // above kMaxLedgerEpsilon
  for (const double e : bad) {
    EXPECT_EQ(ledger_->spend("r", e, "bad", 1).code(), StatusCode::kInvalidArgument) << e;
  }
  // The alice-analytics bug: a negative spend must not raise the remaining budget.
  EXPECT_DOUBLE_EQ(*ledger_->remaining("r"), 1.0);
  EXPECT_DOUBLE_EQ(spent("r"), 0.0);
  EXPECT_EQ(ledger_->setBudget("r", -1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->setBudget("r", std::numeric_limits<double>::infinity()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->setBudget("r", std::numeric_limits<double>::quiet_NaN()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->spend("", 0.1, "no name", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(PrivacyLedger::open(*db_, -1).ok());
  EXPECT_FALSE(PrivacyLedger::open(*db_, std::numeric_limits<double>::quiet_NaN()).ok());
}

TEST_F(PrivacyLedgerTest, SurvivesReopen) {
  ASSERT_TRUE(ledger_->setBudget("report/2026-W48", 2.0).ok());
  ASSERT_TRUE(ledger_->spend("report/2026-W48", 1.5, "weekly", 10).ok());
  ASSERT_TRUE(ledger_->spend("baseline/fortune", 0.25, "baseline", 20).ok());
  reopen();
  EXPECT_DOUBLE_EQ(spent("report/2026-W48"), 1.5);
  EXPECT_DOUBLE_EQ(*ledger_->remaining("report/2026-W48"), 0.5);
  EXPECT_EQ(ledger_->spend("report/2026-W48", 0.6, "weekly", 30).code(),
            StatusCode::kFailedPrecondition);
  auto rows = ledger_->releases();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].release, "baseline/fortune");
  EXPECT_DOUBLE_EQ((*rows)[0].budget, 1.0);  // The default budget when first spent.
  EXPECT_DOUBLE_EQ((*rows)[0].spent, 0.25);
  EXPECT_EQ((*rows)[0].updated_ms, 20);
  EXPECT_EQ((*rows)[1].release, "report/2026-W48");
  EXPECT_DOUBLE_EQ((*rows)[1].budget, 2.0);
  // A release keeps the budget it was given even when the default changes.
  reopen(5.0);
  EXPECT_DOUBLE_EQ(*ledger_->remaining("baseline/fortune"), 0.75);
  EXPECT_DOUBLE_EQ(*ledger_->remaining("never/spent"), 5.0);
}

TEST_F(PrivacyLedgerTest, LoweringTheBudgetBelowSpentRefusesLaterSpends) {
  ASSERT_TRUE(ledger_->spend("r", 0.8, "a", 1).ok());
  ASSERT_TRUE(ledger_->setBudget("r", 0.5).ok());
  EXPECT_DOUBLE_EQ(*ledger_->remaining("r"), 0.0);
  EXPECT_EQ(ledger_->spend("r", 0.01, "b", 2).code(), StatusCode::kFailedPrecondition);
  EXPECT_DOUBLE_EQ(spent("r"), 0.8);
}

TEST_F(PrivacyLedgerTest, ReleaseCountsSpendsThenReleasesNoisyCounts) {
  ASSERT_TRUE(ledger_->setBudget("report/2026-W48", 1.0).ok());
  const std::vector<int64_t> counts(500, 100);
  auto noisy = releaseCounts(*ledger_, "report/2026-W48", counts, 0.5, "weekly", 100);
  ASSERT_TRUE(noisy.ok()) << noisy.status().toString();
  ASSERT_EQ(noisy->size(), counts.size());
  int changed = 0;
  for (const int64_t v : *noisy) {
    changed += v != 100 ? 1 : 0;
  }
  EXPECT_GT(changed, 300);  // P(noise != 0) ~ 0.76 at epsilon 0.5.
  EXPECT_DOUBLE_EQ(spent("report/2026-W48"), 0.5);
}

TEST_F(PrivacyLedgerTest, ReleaseCountsReleasesNothingWhenRefused) {
  ASSERT_TRUE(ledger_->setBudget("report/2026-W48", 0.3).ok());
  const std::vector<int64_t> counts{10, 20, 30};
  auto refused = releaseCounts(*ledger_, "report/2026-W48", counts, 0.5, "weekly", 1);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(refused.ok());
  auto bad = releaseCounts(*ledger_, "report/2026-W48", counts,
                           std::numeric_limits<double>::quiet_NaN(), "weekly", 1);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto bad_sensitivity = releaseCounts(*ledger_, "report/2026-W48", counts, 0.1, "weekly", 1, 0);
  EXPECT_EQ(bad_sensitivity.status().code(), StatusCode::kInvalidArgument);
  // Nothing was charged by the refused or invalid calls.
  EXPECT_DOUBLE_EQ(spent("report/2026-W48"), 0.0);
  auto spends = ledger_->spends("report/2026-W48");
  ASSERT_TRUE(spends.ok());
  EXPECT_TRUE(spends->empty());
}

TEST_F(PrivacyLedgerTest, EpsilonIsAccountedInMicroEpsilons) {
  EXPECT_EQ(*PrivacyLedger::epsilonMicros(0.1), 100'000);
  EXPECT_EQ(*PrivacyLedger::epsilonMicros(0.3), 300'000);
  EXPECT_EQ(*PrivacyLedger::epsilonMicros(1e-6), 1);
  EXPECT_EQ(*PrivacyLedger::epsilonMicros(6e-7), 1);
  EXPECT_FALSE(PrivacyLedger::epsilonMicros(4e-7).ok());
}

}  // namespace
}  // namespace dw::security
