#include "gateway/audit_trail.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace dw::gateway {
namespace {

// A mirror in memory that can be made unreachable, as etcd can be.
class FakeMirror : public security::AuditMirror {
 public:
  struct State {
    bool reachable = true;
    std::map<int64_t, std::string> entries;  // seq -> entry hash
    std::string chain;
  };
  explicit FakeMirror(State& state) : state_(state) {}
  StatusOr<int64_t> lastSeq(const std::string& first_hash) override {
    if (!state_.reachable) {
      return unavailable("etcd is down");
    }
    state_.chain = first_hash;
    return state_.entries.empty() ? int64_t{0} : state_.entries.rbegin()->first;
  }
  Status put(const std::string& first_hash, const security::AuditEntry& entry) override {
    if (!state_.reachable) {
      return unavailable("etcd is down");
    }
    EXPECT_EQ(first_hash, state_.chain);
    state_.entries[entry.seq] = entry.entry_hash;
    return okStatus();
  }

 private:
  State& state_;
};

class AuditTrailMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_trail_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    security::AuditLog::Options options;
    options.path = (dir_ / "audit.db").string();
    auto log = security::AuditLog::open(options);
    ASSERT_TRUE(log.ok()) << log.status().toString();
    trail_ = std::make_unique<AuditTrail>(std::move(log).value(), std::chrono::seconds(60),
                                          [] { return nullptr; });
    trail_->setMirror(std::make_unique<FakeMirror>(mirror_));
  }
  void TearDown() override {
    trail_.reset();
    std::filesystem::remove_all(dir_);
  }
  StatusOr<security::AuditEntry> record(const std::string& operation) {
    security::AuditRecord r;
    r.actor = "alice";
    r.operation = operation;
    r.target = "fortune";
    return trail_->record(r);
  }

  std::filesystem::path dir_;
  FakeMirror::State mirror_;
  std::unique_ptr<AuditTrail> trail_;
};

TEST_F(AuditTrailMirrorTest, EveryAcknowledgedEntryIsInTheMirror) {
  auto a = record("deploy");
  auto b = record("rollback");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(mirror_.entries.size(), 2u);
  EXPECT_EQ(mirror_.entries[2], b->entry_hash);
  EXPECT_EQ(mirror_.chain, a->entry_hash);  // The chain is named by its first entry.
}

TEST_F(AuditTrailMirrorTest, AnUnreachableMirrorRefusesTheOperationAndCatchesUpLater) {
  ASSERT_TRUE(record("deploy").ok());
  mirror_.reachable = false;
  auto refused = record("rollback");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(trail_->failures(), 1u);
  mirror_.reachable = true;
  auto next = record("promote");
  ASSERT_TRUE(next.ok());
  // The entry appended locally while the mirror was down went with the next one.
  EXPECT_EQ(mirror_.entries.size(), 3u);
  EXPECT_TRUE(mirror_.entries.contains(2));
}

}  // namespace
}  // namespace dw::gateway
