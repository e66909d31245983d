#include "store/baseline_store.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/database.h"

namespace dw::store {
namespace {

// A fresh directory under the system temp directory, removed at the end of the test.
class BaselineStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_baselines_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "state" / "deepwatch.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Database> openDatabase() {
    StatusOr<std::unique_ptr<Database>> db = Database::open(path_);
    EXPECT_TRUE(db.ok()) << db.status().toString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  static std::vector<StoredBaseline> loaded(BaselineStore& store) {
    StatusOr<std::vector<StoredBaseline>> all = store.loadAll();
    EXPECT_TRUE(all.ok()) << all.status().toString();
    return all.ok() ? *all : std::vector<StoredBaseline>();
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(BaselineStoreTest, StartsEmpty) {
  auto db = openDatabase();
  ASSERT_NE(db, nullptr);
  StatusOr<BaselineStore> store = BaselineStore::open(*db);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  EXPECT_TRUE(loaded(*store).empty());
}

TEST_F(BaselineStoreTest, SaveThenLoadAll) {
  auto db = openDatabase();
  ASSERT_NE(db, nullptr);
  StatusOr<BaselineStore> store = BaselineStore::open(*db);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  ASSERT_TRUE(store->save({"zeta", "all", 1700000000, R"({"model":"zeta"})"}).ok());
  ASSERT_TRUE(store->save({"alpha", "v1", 1700000100, R"({"model":"alpha","version":"v1"})"}).ok());
  ASSERT_TRUE(store->save({"alpha", "v2", 1700000200, R"({"model":"alpha","version":"v2"})"}).ok());
  const std::vector<StoredBaseline> all = loaded(*store);
  ASSERT_EQ(all.size(), 3u);
  // Ordered by model.
  EXPECT_EQ(all[0].model, "alpha");
  EXPECT_EQ(all[1].model, "alpha");
  EXPECT_EQ(all[2].model, "zeta");
  EXPECT_EQ(all[2].version, "all");
  EXPECT_EQ(all[2].captured_at, 1700000000);
  EXPECT_EQ(all[2].json, R"({"model":"zeta"})");
  EXPECT_NE(all[0].version, all[1].version);
}

TEST_F(BaselineStoreTest, SavingTwiceUpdatesTheRow) {
  auto db = openDatabase();
  ASSERT_NE(db, nullptr);
  StatusOr<BaselineStore> store = BaselineStore::open(*db);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  ASSERT_TRUE(store->save({"m", "all", 100, "{\"old\":true}"}).ok());
  ASSERT_TRUE(store->save({"m", "all", 200, "{\"new\":true}"}).ok());
  const std::vector<StoredBaseline> all = loaded(*store);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].captured_at, 200);
  EXPECT_EQ(all[0].json, "{\"new\":true}");
  // Another version of the same model is another row.
  ASSERT_TRUE(store->save({"m", "v1", 300, "{}"}).ok());
  EXPECT_EQ(loaded(*store).size(), 2u);
}

TEST_F(BaselineStoreTest, ReopeningTheFileKeepsTheRows) {
  {
    auto db = openDatabase();
    ASSERT_NE(db, nullptr);
    StatusOr<BaselineStore> store = BaselineStore::open(*db);
    ASSERT_TRUE(store.ok()) << store.status().toString();
    ASSERT_TRUE(store->save({"m", "all", 42, "{\"model\":\"m\"}"}).ok());
    ASSERT_TRUE(store->save({"n", "v3", 43, "{\"model\":\"n\"}"}).ok());
  }
  auto db = openDatabase();
  ASSERT_NE(db, nullptr);
  StatusOr<BaselineStore> store = BaselineStore::open(*db);  // The table exists already.
  ASSERT_TRUE(store.ok()) << store.status().toString();
  const std::vector<StoredBaseline> all = loaded(*store);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].model, "m");
  EXPECT_EQ(all[0].json, "{\"model\":\"m\"}");
  EXPECT_EQ(all[1].model, "n");
  EXPECT_EQ(all[1].version, "v3");
  EXPECT_EQ(all[1].captured_at, 43);
}

TEST_F(BaselineStoreTest, KeepsLargeJsonIntact) {
  auto db = openDatabase();
  ASSERT_NE(db, nullptr);
  StatusOr<BaselineStore> store = BaselineStore::open(*db);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  std::string json = "{\"histograms\":{\"vocabulary\":[";
  for (int i = 0; i < 20000; ++i) {
    json += (i == 0 ? "" : ",") + std::to_string(i * 7);
  }
  json += "]},\"model\":\"模型\"}";
  ASSERT_TRUE(store->save({"模型", "all", 1, json}).ok());
  const std::vector<StoredBaseline> all = loaded(*store);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].model, "模型");
  EXPECT_EQ(all[0].json, json);
}

}  // namespace
}  // namespace dw::store
