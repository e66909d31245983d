#include "store/state_store.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/database.h"
#include "store/etcd_state_store.h"

namespace dw::store {
namespace {

// The SQLite backend in a fresh directory, reopened as a restart would.
class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_state_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    db_.reset();
    StatusOr<std::unique_ptr<Database>> db = Database::open((dir_ / "deepwatch.db").string());
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
    StatusOr<std::unique_ptr<StateStore>> store = openSqliteStateStore(*db_);
    ASSERT_TRUE(store.ok()) << store.status().toString();
    store_ = std::move(store).value();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(SqliteStateStoreTest, DocumentsSurviveAReopenAndTheLastWriteWins) {
  ASSERT_TRUE(store_->put("rollouts", "fortune", R"({"step":0})").ok());
  ASSERT_TRUE(store_->put("rollouts", "fortune", R"({"step":1})").ok());
  ASSERT_TRUE(store_->put("rollouts", "poem", R"({"step":2})").ok());
  ASSERT_TRUE(store_->put("other", "fortune", "x").ok());
  reopen();
  StatusOr<std::map<std::string, std::string>> rollouts = store_->list("rollouts");
  ASSERT_TRUE(rollouts.ok());
  EXPECT_EQ(*rollouts, (std::map<std::string, std::string>{{"fortune", R"({"step":1})"},
                                                           {"poem", R"({"step":2})"}}));
  EXPECT_EQ(store_->list("nothing")->size(), 0u);
  EXPECT_EQ(store_->backend(), "sqlite");
}

TEST(EtcdStateStoreTest, AnUnreachableEtcdIsAnErrorNotAWrite) {
  // Nothing listens on port 1: the write fails within the timeout and says so.
  auto store = makeEtcdStateStore({.endpoints = {"http://127.0.0.1:1"},
                                   .prefix = "/deepwatch",
                                   .guard_key = "/deepwatch/leader",
                                   .guard_value = "gw-a",
                                   .timeout = std::chrono::milliseconds(300)});
  Status put = store->put("rollouts", "fortune", "{}");
  EXPECT_FALSE(put.ok());
  EXPECT_FALSE(store->list("rollouts").ok());
  EXPECT_EQ(store->backend(), "etcd");
}

}  // namespace
}  // namespace dw::store
