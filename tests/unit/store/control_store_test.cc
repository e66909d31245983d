#include "store/control_store.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/database.h"

namespace dw::store {
namespace {

// A control store in a fresh directory under the system temp directory, removed at the end.
class ControlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_control_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Closes and opens the database file again, as a restart would.
  void reopen() {
    store_.reset();
    db_.reset();
    StatusOr<std::unique_ptr<Database>> db = Database::open((dir_ / "deepwatch.db").string());
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
    StatusOr<ControlStore> store = ControlStore::open(*db_);
    ASSERT_TRUE(store.ok()) << store.status().toString();
    store_.emplace(std::move(store).value());
  }

  std::vector<VersionRow> versions() {
    StatusOr<std::vector<VersionRow>> rows = store_->versions();
    EXPECT_TRUE(rows.ok()) << rows.status().toString();
    return rows.ok() ? *rows : std::vector<VersionRow>();
  }

  std::vector<VersionHistoryRow> history(const std::string& model, int limit = 100) {
    StatusOr<std::vector<VersionHistoryRow>> rows = store_->history(model, limit);
    EXPECT_TRUE(rows.ok()) << rows.status().toString();
    return rows.ok() ? *rows : std::vector<VersionHistoryRow>();
  }

  std::vector<ControlEventRow> events(int limit = 100) {
    StatusOr<std::vector<ControlEventRow>> rows = store_->events(limit);
    EXPECT_TRUE(rows.ok()) << rows.status().toString();
    return rows.ok() ? *rows : std::vector<ControlEventRow>();
  }

  int64_t addEvent(const std::string& kind, int64_t at_ms, const std::string& details = "{}") {
    ControlEventRow event;
    event.at_ms = at_ms;
    event.kind = kind;
    event.model = "chat";
    event.version = "v2";
    event.actor = "controller";
    event.reason = kind + " reason";
    event.details_json = details;
    StatusOr<int64_t> id = store_->addEvent(event);
    EXPECT_TRUE(id.ok()) << id.status().toString();
    return id.ok() ? *id : -1;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::optional<ControlStore> store_;
};

TEST_F(ControlStoreTest, NewStoreIsEmpty) {
  EXPECT_TRUE(versions().empty());
  EXPECT_TRUE(history("chat").empty());
  EXPECT_TRUE(events().empty());
}

TEST_F(ControlStoreTest, OpenIsIdempotent) {
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "config", "initial", 1000).ok());
  StatusOr<ControlStore> again = ControlStore::open(*db_);
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_EQ(versions().size(), 1u);
}

TEST_F(ControlStoreTest, SetStateRecordsVersionAndHistoryFromNew) {
  ASSERT_TRUE(store_->setState("chat", "v1", "loading", "alice", "deploy", 1000).ok());
  std::vector<VersionRow> rows = versions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].model, "chat");
  EXPECT_EQ(rows[0].version, "v1");
  EXPECT_EQ(rows[0].state, "loading");
  EXPECT_DOUBLE_EQ(rows[0].accuracy, -1);  // Unknown until measured.
  EXPECT_EQ(rows[0].updated_ms, 1000);

  std::vector<VersionHistoryRow> log = history("chat");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at_ms, 1000);
  EXPECT_EQ(log[0].model, "chat");
  EXPECT_EQ(log[0].version, "v1");
  EXPECT_EQ(log[0].from_state, "new");
  EXPECT_EQ(log[0].to_state, "loading");
  EXPECT_EQ(log[0].actor, "alice");
  EXPECT_EQ(log[0].reason, "deploy");
}

TEST_F(ControlStoreTest, TransitionsAreListedNewestFirst) {
  ASSERT_TRUE(store_->setState("chat", "v2", "loading", "alice", "deploy", 1000).ok());
  ASSERT_TRUE(store_->setState("chat", "v2", "canary", "controller", "ready", 2000).ok());
  ASSERT_TRUE(store_->setState("chat", "v2", "stable", "controller", "promoted", 3000).ok());

  std::vector<VersionHistoryRow> log = history("chat");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].from_state, "canary");
  EXPECT_EQ(log[0].to_state, "stable");
  EXPECT_EQ(log[0].at_ms, 3000);
  EXPECT_EQ(log[0].reason, "promoted");
  EXPECT_EQ(log[1].from_state, "loading");
  EXPECT_EQ(log[1].to_state, "canary");
  EXPECT_EQ(log[2].from_state, "new");
  EXPECT_EQ(log[2].to_state, "loading");

  std::vector<VersionRow> rows = versions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "stable");
  EXPECT_EQ(rows[0].updated_ms, 3000);
}

TEST_F(ControlStoreTest, HistoryOrderFollowsInsertionNotTimestamps) {
  // The controller's clock may step back; the newest transition is still listed first.
  ASSERT_TRUE(store_->setState("chat", "v1", "loading", "a", "r", 5000).ok());
  ASSERT_TRUE(store_->setState("chat", "v1", "ready", "a", "r", 4000).ok());
  std::vector<VersionHistoryRow> log = history("chat");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].to_state, "ready");
  EXPECT_EQ(log[1].to_state, "loading");
}

TEST_F(ControlStoreTest, SameStateAddsNoHistoryButUpdatesTime) {
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "config", "initial", 1000).ok());
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "config", "again", 2000).ok());
  EXPECT_EQ(history("chat").size(), 1u);
  std::vector<VersionRow> rows = versions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].updated_ms, 2000);
}

TEST_F(ControlStoreTest, HistoryIsPerModelAndLimited) {
  ASSERT_TRUE(store_->setState("chat", "v1", "loading", "a", "r", 1).ok());
  ASSERT_TRUE(store_->setState("code", "v1", "loading", "a", "r", 2).ok());
  ASSERT_TRUE(store_->setState("chat", "v1", "ready", "a", "r", 3).ok());
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "a", "r", 4).ok());

  std::vector<VersionHistoryRow> chat = history("chat");
  ASSERT_EQ(chat.size(), 3u);
  for (const auto& row : chat) {
    EXPECT_EQ(row.model, "chat");
  }
  std::vector<VersionHistoryRow> code = history("code");
  ASSERT_EQ(code.size(), 1u);
  EXPECT_EQ(code[0].at_ms, 2);

  std::vector<VersionHistoryRow> last_two = history("chat", 2);
  ASSERT_EQ(last_two.size(), 2u);
  EXPECT_EQ(last_two[0].to_state, "stable");
  EXPECT_EQ(last_two[1].to_state, "ready");
  EXPECT_TRUE(history("other").empty());
}

TEST_F(ControlStoreTest, VersionsAreOrderedByModelThenVersion) {
  ASSERT_TRUE(store_->setState("code", "v1", "stable", "a", "r", 1).ok());
  ASSERT_TRUE(store_->setState("chat", "v2", "canary", "a", "r", 2).ok());
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "a", "r", 3).ok());
  std::vector<VersionRow> rows = versions();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].model + "/" + rows[0].version, "chat/v1");
  EXPECT_EQ(rows[1].model + "/" + rows[1].version, "chat/v2");
  EXPECT_EQ(rows[2].model + "/" + rows[2].version, "code/v1");
  EXPECT_EQ(rows[1].state, "canary");
}

TEST_F(ControlStoreTest, AccuracyIsKeptUnlessGiven) {
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "a", "measured", 1, 0.875).ok());
  ASSERT_EQ(versions().size(), 1u);
  EXPECT_DOUBLE_EQ(versions()[0].accuracy, 0.875);

  // The default (-2) keeps the stored accuracy across a transition.
  ASSERT_TRUE(store_->setState("chat", "v1", "standby", "a", "replaced", 2).ok());
  EXPECT_DOUBLE_EQ(versions()[0].accuracy, 0.875);
  EXPECT_EQ(versions()[0].state, "standby");

  // A new value replaces it, even without a state change.
  ASSERT_TRUE(store_->setState("chat", "v1", "standby", "a", "remeasured", 3, 0.5).ok());
  EXPECT_DOUBLE_EQ(versions()[0].accuracy, 0.5);

  // -1 explicitly marks it unknown again.
  ASSERT_TRUE(store_->setState("chat", "v1", "standby", "a", "reset", 4, -1).ok());
  EXPECT_DOUBLE_EQ(versions()[0].accuracy, -1);

  // Zero is a real accuracy, not "keep".
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "a", "bad", 5, 0).ok());
  EXPECT_DOUBLE_EQ(versions()[0].accuracy, 0);
}

TEST_F(ControlStoreTest, StateSurvivesReopen) {
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "a", "r", 1, 0.9).ok());
  ASSERT_TRUE(store_->setState("chat", "v2", "failed", "controller", "rolled back", 2).ok());
  const int64_t id = addEvent("l3_rollback", 2);
  reopen();
  std::vector<VersionRow> rows = versions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, "stable");
  EXPECT_DOUBLE_EQ(rows[0].accuracy, 0.9);
  EXPECT_EQ(rows[1].state, "failed");
  EXPECT_EQ(history("chat").size(), 2u);
  std::vector<ControlEventRow> log = events();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].id, id);
}

TEST_F(ControlStoreTest, AddEventReturnsIncreasingIdsAndRoundTrips) {
  ControlEventRow event;
  event.at_ms = 12345;
  event.kind = "l1_restart";
  event.model = "chat";
  event.version = "v1";
  event.actor = "controller";
  event.reason = "replica on port 9001 died";
  event.details_json = R"({"port":9001,"state":"restarting"})";
  StatusOr<int64_t> first = store_->addEvent(event);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_GT(*first, 0);
  const int64_t second = addEvent("deploy", 20000);
  EXPECT_GT(second, *first);

  std::vector<ControlEventRow> log = events();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].id, *first);
  EXPECT_EQ(log[1].at_ms, 12345);
  EXPECT_EQ(log[1].kind, "l1_restart");
  EXPECT_EQ(log[1].model, "chat");
  EXPECT_EQ(log[1].version, "v1");
  EXPECT_EQ(log[1].actor, "controller");
  EXPECT_EQ(log[1].reason, "replica on port 9001 died");
  EXPECT_EQ(log[1].details_json, R"({"port":9001,"state":"restarting"})");
}

TEST_F(ControlStoreTest, EventsAreNewestFirstAndLimited) {
  const int64_t a = addEvent("deploy", 1);
  const int64_t b = addEvent("canary_step", 2);
  const int64_t c = addEvent("promote", 3);
  std::vector<ControlEventRow> log = events();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].id, c);
  EXPECT_EQ(log[1].id, b);
  EXPECT_EQ(log[2].id, a);
  EXPECT_EQ(log[0].kind, "promote");

  std::vector<ControlEventRow> last = events(2);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].id, c);
  EXPECT_EQ(last[1].id, b);
}

TEST_F(ControlStoreTest, UpdateEventReplacesOnlyItsDetails) {
  const int64_t a = addEvent("l1_restart", 1, R"({"state":"restarting"})");
  const int64_t b = addEvent("deploy", 2, R"({"n":1})");
  ASSERT_TRUE(store_->updateEvent(a, R"({"state":"restarted","seconds":1.5})").ok());
  std::vector<ControlEventRow> log = events();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].id, a);
  EXPECT_EQ(log[1].details_json, R"({"state":"restarted","seconds":1.5})");
  EXPECT_EQ(log[1].kind, "l1_restart");  // Everything else unchanged.
  EXPECT_EQ(log[1].at_ms, 1);
  EXPECT_EQ(log[1].reason, "l1_restart reason");
  EXPECT_EQ(log[0].id, b);
  EXPECT_EQ(log[0].details_json, R"({"n":1})");
}

TEST_F(ControlStoreTest, UpdateOfUnknownEventChangesNothing) {
  const int64_t a = addEvent("deploy", 1, R"({"n":1})");
  EXPECT_TRUE(store_->updateEvent(a + 100, R"({"n":2})").ok());
  std::vector<ControlEventRow> log = events();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].details_json, R"({"n":1})");
}

TEST_F(ControlStoreTest, FailedSetStateLeavesNoTransactionOpen) {
  // A failure inside the transaction (here: the history table is gone) rolls it back, so the
  // half-done upsert is invisible and the connection is usable again.
  ASSERT_TRUE(store_->setState("chat", "v1", "stable", "a", "r", 1).ok());
  ASSERT_TRUE(db_->exec("DROP TABLE version_history").ok());
  EXPECT_FALSE(store_->setState("chat", "v1", "failed", "a", "r", 2).ok());
  // Nothing of the failed call is visible ...
  std::vector<VersionRow> rows = versions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "stable");
  // ... and a call that needs no history row still works.
  EXPECT_TRUE(store_->setState("chat", "v1", "stable", "a", "r", 3).ok());
}

}  // namespace
}  // namespace dw::store
