#include "gateway/route_persistence.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "store/database.h"

namespace dw::gateway {
namespace {

// A state file in a fresh directory, reopened as a restart would.
class RoutePersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_routes_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }
  void TearDown() override {
    routes_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    routes_.reset();
    db_.reset();
    auto db = store::Database::open((dir_ / "deepwatch.db").string());
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
    auto routes = RoutePersistence::open(*db_);
    ASSERT_TRUE(routes.ok()) << routes.status().toString();
    routes_.emplace(std::move(routes).value());
  }

  // The file: fortune with v1 stable 90, v2 canary 10, v0 standby.
  static GatewayConfig file() {
    GatewayConfig config;
    ModelConfig model;
    model.name = "fortune";
    for (auto [id, track, weight] :
         {std::tuple{"v1", Track::kStable, 90.0}, std::tuple{"v2", Track::kCanary, 10.0},
          std::tuple{"v0", Track::kStandby, 0.0}}) {
      VersionConfig version;
      version.id = id;
      version.track = track;
      version.weight = weight;
      model.versions.push_back(version);
    }
    config.models.push_back(model);
    return config;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::optional<RoutePersistence> routes_;
};

TEST_F(RoutePersistenceTest, SavedRoutingIsRestoredOverTheFileAfterARestart) {
  GatewayConfig config = file();
  ASSERT_EQ(*routes_->restore(config), 0);
  // A rollback: v0 becomes stable with all the traffic, v1 and v2 standby.
  config.models[0].versions[0].track = Track::kStandby;
  config.models[0].versions[0].weight = 0;
  config.models[0].versions[1].weight = 0;
  config.models[0].versions[2].track = Track::kStable;
  config.models[0].versions[2].weight = 100;
  ASSERT_TRUE(routes_->save(config).ok());

  reopen();
  GatewayConfig restarted = file();
  EXPECT_EQ(*routes_->restore(restarted), 3);
  const auto& v = restarted.models[0].versions;
  EXPECT_EQ(v[0].track, Track::kStandby);
  EXPECT_EQ(v[1].weight, 0);
  EXPECT_EQ(v[2].track, Track::kStable);
  EXPECT_EQ(v[2].weight, 100);
}

TEST_F(RoutePersistenceTest, AVersionEditedInTheFileSinceTakesTheFilesValue) {
  GatewayConfig config = file();
  ASSERT_TRUE(routes_->restore(config).ok());
  config.models[0].versions[0].weight = 50;
  config.models[0].versions[1].weight = 50;
  ASSERT_TRUE(routes_->save(config).ok());

  reopen();
  GatewayConfig edited = file();
  edited.models[0].versions[1].weight = 30;  // The operator edited v2 in the file.
  EXPECT_EQ(*routes_->restore(edited), 1);
  EXPECT_EQ(edited.models[0].versions[0].weight, 50);  // Still the stored value.
  EXPECT_EQ(edited.models[0].versions[1].weight, 30);  // The file's new value.
}

TEST_F(RoutePersistenceTest, StoredRoutingWithoutTrafficIsIgnored) {
  GatewayConfig config = file();
  ASSERT_TRUE(routes_->restore(config).ok());
  config.models[0].versions[0].weight = 0;
  config.models[0].versions[1].weight = 0;  // Cannot be set through the API; the file wins.
  ASSERT_TRUE(routes_->save(config).ok());
  reopen();
  GatewayConfig restarted = file();
  EXPECT_EQ(*routes_->restore(restarted), 0);
  EXPECT_EQ(restarted.models[0].versions[0].weight, 90);
}

}  // namespace
}  // namespace dw::gateway
