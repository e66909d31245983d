#include "store/outbox_store.h"

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

// A database in a fresh directory under the system temp directory, removed at the end.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_outbox_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_ = openDatabase();
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Database> openDatabase() {
    StatusOr<std::unique_ptr<Database>> db = Database::open((dir_ / "deepwatch.db").string());
    EXPECT_TRUE(db.ok()) << db.status().toString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

class OutboxStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_NE(db_, nullptr);
    StatusOr<OutboxStore> outbox = OutboxStore::open(*db_);
    ASSERT_TRUE(outbox.ok()) << outbox.status().toString();
    outbox_.emplace(std::move(outbox).value());
  }

  int64_t enqueue(const std::string& payload, int64_t now_ms) {
    StatusOr<int64_t> id = outbox_->enqueue("hook", "http://hook/x", payload, now_ms);
    EXPECT_TRUE(id.ok()) << id.status().toString();
    return id.ok() ? *id : -1;
  }

  std::vector<OutboxRow> due(int64_t now_ms, int limit = 100) {
    StatusOr<std::vector<OutboxRow>> rows = outbox_->due(now_ms, limit);
    EXPECT_TRUE(rows.ok()) << rows.status().toString();
    return rows.ok() ? *rows : std::vector<OutboxRow>();
  }

  int64_t size() {
    StatusOr<int64_t> n = outbox_->size();
    EXPECT_TRUE(n.ok()) << n.status().toString();
    return n.ok() ? *n : -1;
  }

  static std::vector<std::string> payloads(const std::vector<OutboxRow>& rows) {
    std::vector<std::string> out;
    for (const OutboxRow& row : rows) {
      out.push_back(row.payload);
    }
    return out;
  }

  std::optional<OutboxStore> outbox_;
};

TEST_F(OutboxStoreTest, StartsEmpty) {
  EXPECT_EQ(size(), 0);
  EXPECT_TRUE(due(1'000'000).empty());
}

TEST_F(OutboxStoreTest, DueReturnsRowsOldestFirst) {
  const int64_t a = enqueue("a", 1000);
  const int64_t b = enqueue("b", 1000);
  const int64_t c = enqueue("c", 1001);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(size(), 3);
  const std::vector<OutboxRow> rows = due(2000);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(payloads(rows), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[0].id, a);
  EXPECT_EQ(rows[0].sink, "hook");
  EXPECT_EQ(rows[0].url, "http://hook/x");
  EXPECT_EQ(rows[0].attempts, 0);
  EXPECT_EQ(rows[0].next_attempt_ms, 1000);
  // The limit keeps the oldest.
  EXPECT_EQ(payloads(due(2000, 2)), (std::vector<std::string>{"a", "b"}));
}

TEST_F(OutboxStoreTest, DueRespectsNextAttempt) {
  enqueue("now", 1000);
  enqueue("later", 5000);
  EXPECT_TRUE(due(999).empty());
  EXPECT_EQ(payloads(due(1000)), (std::vector<std::string>{"now"}));
  EXPECT_EQ(payloads(due(4999)), (std::vector<std::string>{"now"}));
  EXPECT_EQ(payloads(due(5000)), (std::vector<std::string>{"now", "later"}));
}

TEST_F(OutboxStoreTest, RetryLaterCountsTheAttemptAndDelays) {
  const int64_t id = enqueue("a", 1000);
  enqueue("b", 1000);
  ASSERT_TRUE(outbox_->retryLater(id, 3000).ok());
  EXPECT_EQ(payloads(due(2000)), (std::vector<std::string>{"b"}));
  std::vector<OutboxRow> rows = due(3000);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, id);  // Still ordered by age, not by next attempt.
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].next_attempt_ms, 3000);
  ASSERT_TRUE(outbox_->retryLater(id, 7000).ok());
  rows = due(7000);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].attempts, 2);
  EXPECT_EQ(size(), 2);
}

TEST_F(OutboxStoreTest, RemoveDeletesOneRow) {
  const int64_t a = enqueue("a", 1000);
  enqueue("b", 1000);
  ASSERT_TRUE(outbox_->remove(a).ok());
  EXPECT_EQ(size(), 1);
  EXPECT_EQ(payloads(due(1000)), (std::vector<std::string>{"b"}));
  // Removing what is gone is not an error.
  EXPECT_TRUE(outbox_->remove(a).ok());
  EXPECT_EQ(size(), 1);
}

TEST_F(OutboxStoreTest, TrimKeepsTheNewest) {
  for (int i = 0; i < 5; ++i) {
    enqueue("p" + std::to_string(i), 1000 + i);
  }
  StatusOr<int64_t> dropped = outbox_->trim(10);
  ASSERT_TRUE(dropped.ok()) << dropped.status().toString();
  EXPECT_EQ(*dropped, 0);
  dropped = outbox_->trim(2);
  ASSERT_TRUE(dropped.ok()) << dropped.status().toString();
  EXPECT_EQ(*dropped, 3);
  EXPECT_EQ(size(), 2);
  EXPECT_EQ(payloads(due(10'000)), (std::vector<std::string>{"p3", "p4"}));
}

TEST_F(OutboxStoreTest, RowsSurviveReopening) {
  enqueue("kept", 1000);
  outbox_.reset();
  db_.reset();
  db_ = openDatabase();
  ASSERT_NE(db_, nullptr);
  StatusOr<OutboxStore> reopened = OutboxStore::open(*db_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().toString();
  StatusOr<std::vector<OutboxRow>> rows = reopened->due(1000, 10);
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].payload, "kept");
}

class AlertEventStoreTest : public StoreTest {};

TEST_F(AlertEventStoreTest, RecentReturnsTheNewestFirst) {
  StatusOr<AlertEventStore> events = AlertEventStore::open(*db_);
  ASSERT_TRUE(events.ok()) << events.status().toString();
  StatusOr<std::vector<AlertEventRow>> empty = events->recent(10);
  ASSERT_TRUE(empty.ok()) << empty.status().toString();
  EXPECT_TRUE(empty->empty());

  ASSERT_TRUE(
      events->append({1000, "fired", "LatencyP99High", "warning", R"({"model":"m"})", 0.6}).ok());
  ASSERT_TRUE(
      events->append({2000, "escalated", "LatencyP99High", "critical", R"({"model":"m"})", 0.9})
          .ok());
  ASSERT_TRUE(
      events->append({3000, "resolved", "LatencyP99High", "critical", R"({"model":"m"})", 0.1})
          .ok());

  StatusOr<std::vector<AlertEventRow>> rows = events->recent(10);
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].kind, "resolved");
  EXPECT_EQ((*rows)[1].kind, "escalated");
  EXPECT_EQ((*rows)[2].kind, "fired");
  EXPECT_EQ((*rows)[2].at_ms, 1000);
  EXPECT_EQ((*rows)[2].rule, "LatencyP99High");
  EXPECT_EQ((*rows)[2].severity, "warning");
  EXPECT_EQ((*rows)[2].labels_json, R"({"model":"m"})");
  EXPECT_DOUBLE_EQ((*rows)[2].value, 0.6);

  rows = events->recent(2);
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].kind, "resolved");
  EXPECT_EQ((*rows)[1].kind, "escalated");
}

TEST_F(AlertEventStoreTest, SharesTheDatabaseWithTheOutbox) {
  StatusOr<OutboxStore> outbox = OutboxStore::open(*db_);
  StatusOr<AlertEventStore> events = AlertEventStore::open(*db_);
  ASSERT_TRUE(outbox.ok() && events.ok());
  ASSERT_TRUE(outbox->enqueue("log", "", "{}", 1).ok());
  ASSERT_TRUE(events->append({1, "notified", "R", "firing", "{}", 1}).ok());
  StatusOr<int64_t> size = outbox->size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 1);
  StatusOr<std::vector<AlertEventRow>> rows = events->recent(5);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

}  // namespace
}  // namespace dw::store
