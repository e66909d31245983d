#include "gateway/routing.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace dw::gateway {
namespace {

VersionRoute version(std::string id, Track track, double weight) {
  VersionRoute v;
  v.id = std::move(id);
  v.track = track;
  v.weight = weight;
  return v;
}

ModelRoute modelOf(std::vector<VersionRoute> versions) {
  ModelRoute model;
  model.versions = std::move(versions);
  return model;
}

bool anyVersion(const VersionRoute& /*v*/) { return true; }

// How many of the points u = 0, 1e-4, ..., 1 - 1e-4 choose each version index (-1 counted last).
std::vector<int> countPicks(const ModelRoute& model, auto usable) {
  std::vector<int> counts(model.versions.size() + 1, 0);
  for (int i = 0; i < 10000; ++i) {
    int picked = pickVersion(model, i * 1e-4, usable);
    counts[picked < 0 ? model.versions.size() : static_cast<size_t>(picked)]++;
  }
  return counts;
}

TEST(PickVersionTest, SplitsByWeightWithinOneThousandth) {
  ModelRoute model =
      modelOf({version("v1", Track::kStable, 70), version("v2", Track::kCanary, 30)});
  std::vector<int> counts = countPicks(model, anyVersion);
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[1] / 10000.0, 0.30, 1e-3);
  EXPECT_NEAR(counts[0] / 10000.0, 0.70, 1e-3);
}

TEST(PickVersionTest, LowPointsGoToTheFirstVersion) {
  ModelRoute model =
      modelOf({version("v1", Track::kStable, 70), version("v2", Track::kCanary, 30)});
  EXPECT_EQ(pickVersion(model, 0.0, anyVersion), 0);
  EXPECT_EQ(pickVersion(model, 0.6999, anyVersion), 0);
  EXPECT_EQ(pickVersion(model, 0.7001, anyVersion), 1);
}

TEST(PickVersionTest, UnusableVersionGetsNoTrafficAndItsWeightGoesToTheOthers) {
  ModelRoute model = modelOf({version("a", Track::kStable, 50), version("b", Track::kCanary, 30),
                              version("c", Track::kStable, 20)});
  std::vector<int> counts = countPicks(model, [](const VersionRoute& v) { return v.id != "b"; });
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[3], 0);
  EXPECT_NEAR(counts[0] / 10000.0, 50.0 / 70.0, 1e-3);
  EXPECT_NEAR(counts[2] / 10000.0, 20.0 / 70.0, 1e-3);
}

TEST(PickVersionTest, FirstUsableStandbyTakesOverWhenNoPrimaryIsUsable) {
  ModelRoute model = modelOf({version("s", Track::kStable, 90), version("x", Track::kStandby, 0),
                              version("c", Track::kCanary, 10), version("y", Track::kStandby, 0),
                              version("z", Track::kStandby, 0)});
  auto usable = [](const VersionRoute& v) { return v.id == "y" || v.id == "z"; };
  for (double u : {0.0, 0.5, 0.999}) {
    EXPECT_EQ(pickVersion(model, u, usable), 3) << u;
  }
}

TEST(PickVersionTest, StandbyIsIgnoredWhileAPrimaryIsUsable) {
  ModelRoute model =
      modelOf({version("v0", Track::kStandby, 0), version("v1", Track::kStable, 100)});
  std::vector<int> counts = countPicks(model, anyVersion);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[1], 10000);
}

TEST(PickVersionTest, StandbyWeightDoesNotCountAsPrimary) {
  ModelRoute model =
      modelOf({version("v1", Track::kStable, 100), version("v0", Track::kStandby, 500)});
  std::vector<int> counts = countPicks(model, anyVersion);
  EXPECT_EQ(counts[0], 10000);
}

TEST(PickVersionTest, ReturnsMinusOneWhenNothingIsUsable) {
  ModelRoute model =
      modelOf({version("v1", Track::kStable, 100), version("v0", Track::kStandby, 0)});
  EXPECT_EQ(pickVersion(model, 0.5, [](const VersionRoute&) { return false; }), -1);
  EXPECT_EQ(pickVersion(modelOf({}), 0.5, anyVersion), -1);
}

TEST(PickVersionTest, ZeroWeightVersionsAreNeverChosen) {
  ModelRoute model = modelOf({version("a", Track::kStable, 0), version("b", Track::kCanary, 10),
                              version("c", Track::kStable, 0), version("d", Track::kCanary, 0)});
  std::vector<int> counts = countPicks(model, anyVersion);
  EXPECT_EQ(counts[1], 10000);
  EXPECT_EQ(pickVersion(model, std::nextafter(1.0, 0.0), anyVersion), 1);
}

TEST(PickVersionTest, ZeroWeightPrimariesFallBackToStandby) {
  ModelRoute model = modelOf({version("a", Track::kStable, 0), version("s", Track::kStandby, 0)});
  EXPECT_EQ(pickVersion(model, 0.3, anyVersion), 1);
}

TEST(PickVersionTest, PointJustBelowOneReturnsAValidIndex) {
  const double top = std::nextafter(1.0, 0.0);
  ModelRoute two = modelOf({version("v1", Track::kStable, 70), version("v2", Track::kCanary, 30)});
  EXPECT_EQ(pickVersion(two, top, anyVersion), 1);
  // Weights whose sum is not exact in binary floating point.
  ModelRoute three = modelOf({version("a", Track::kStable, 0.1), version("b", Track::kStable, 0.2),
                              version("c", Track::kCanary, 0.7), version("d", Track::kStandby, 0)});
  EXPECT_EQ(pickVersion(three, top, anyVersion), 2);
  // The last usable primary is returned even when a later version is unusable.
  EXPECT_EQ(pickVersion(three, top, [](const VersionRoute& v) { return v.id != "c"; }), 1);
}

TEST(UnitIntervalTest, MapsHashesIntoHalfOpenUnitInterval) {
  EXPECT_EQ(unitInterval(0), 0.0);
  EXPECT_LT(unitInterval(~0ULL), 1.0);
  EXPECT_GT(unitInterval(~0ULL), 0.999999);
  EXPECT_DOUBLE_EQ(unitInterval(1ULL << 63), 0.5);
  EXPECT_EQ(unitInterval((1ULL << 11) - 1), 0.0);  // The low bits are dropped.
}

// Two models, one shared replica URL across versions, aliases on the first model.
constexpr std::string_view kTwoModels =
    "models:\n"
    "  - name: chat\n"
    "    aliases: [gpt-4o, chat-latest]\n"
    "    versions:\n"
    "      - id: v1\n"
    "        replicas: [{url: http://127.0.0.1:8001}, {url: http://127.0.0.1:8002}]\n"
    "      - id: v2\n"
    "        track: canary\n"
    "        weight: 10\n"
    "        replicas: [{url: http://127.0.0.1:8001}]\n"
    "  - name: embed\n"
    "    versions:\n"
    "      - id: e1\n"
    "        replicas: [{url: http://127.0.0.1:8003/prefix/v1}]\n";

GatewayConfig configOf(std::string_view text) {
  StatusOr<GatewayConfig> config = parseGatewayConfig(text, "test.yaml");
  EXPECT_TRUE(config.ok()) << config.status().toString();
  return config.ok() ? *config : GatewayConfig();
}

class RegistryTest : public ::testing::Test {
 protected:
  Registry registry_;
  GatewayConfig config_ = configOf(kTwoModels);
};

TEST_F(RegistryTest, BuildsVersionsAndReplicasFromConfig) {
  std::shared_ptr<const RoutingTable> table = registry_.build(config_);
  ASSERT_EQ(table->models().size(), 2u);
  const ModelRoute* chat = table->find("chat");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->config.name, "chat");
  ASSERT_EQ(chat->versions.size(), 2u);
  EXPECT_EQ(chat->versions[0].id, "v1");
  EXPECT_EQ(chat->versions[0].track, Track::kStable);
  EXPECT_DOUBLE_EQ(chat->versions[0].weight, 100);
  EXPECT_EQ(chat->versions[0].upstream_model, "chat");
  EXPECT_EQ(chat->versions[1].track, Track::kCanary);
  EXPECT_DOUBLE_EQ(chat->versions[1].weight, 10);
  ASSERT_EQ(chat->versions[0].replicas.size(), 2u);
  ASSERT_EQ(chat->versions[1].replicas.size(), 1u);
  const Replica& first = *chat->versions[0].replicas[0];
  EXPECT_EQ(first.url, "http://127.0.0.1:8001");
  EXPECT_EQ(first.host, "127.0.0.1");
  EXPECT_EQ(first.port, 8001);
  EXPECT_EQ(first.host_header, "127.0.0.1:8001");
  EXPECT_EQ(first.path_prefix, "");
  EXPECT_TRUE(first.healthy.load());
  const ModelRoute* embed = table->find("embed");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->versions[0].replicas[0]->path_prefix, "/prefix");
  EXPECT_EQ(table->config().models.size(), 2u);
  EXPECT_EQ(table->config().file, "test.yaml");
}

TEST_F(RegistryTest, SameUrlSharesOneReplicaWithinAndAcrossBuilds) {
  std::shared_ptr<const RoutingTable> first = registry_.build(config_);
  std::shared_ptr<const RoutingTable> second = registry_.build(config_);
  const ModelRoute* chat1 = first->find("chat");
  const ModelRoute* chat2 = second->find("chat");
  ASSERT_NE(chat1, nullptr);
  ASSERT_NE(chat2, nullptr);
  // v1 and v2 both name port 8001: one object.
  EXPECT_EQ(chat1->versions[0].replicas[0].get(), chat1->versions[1].replicas[0].get());
  // The second snapshot holds the very same objects, with the same ids.
  for (size_t v = 0; v < chat1->versions.size(); ++v) {
    for (size_t r = 0; r < chat1->versions[v].replicas.size(); ++r) {
      EXPECT_EQ(chat1->versions[v].replicas[r].get(), chat2->versions[v].replicas[r].get());
      EXPECT_EQ(chat1->versions[v].replicas[r]->id, chat2->versions[v].replicas[r]->id);
    }
  }
  EXPECT_EQ(registry_.replicas().size(), 3u);
}

TEST_F(RegistryTest, HealthSurvivesARebuild) {
  std::shared_ptr<const RoutingTable> first = registry_.build(config_);
  first->find("embed")->versions[0].replicas[0]->healthy.store(false);
  std::shared_ptr<const RoutingTable> second = registry_.build(config_);
  EXPECT_FALSE(second->find("embed")->versions[0].replicas[0]->healthy.load());
}

TEST_F(RegistryTest, DistinctUrlsGetDistinctDenseIds) {
  std::shared_ptr<const RoutingTable> table = registry_.build(config_);
  std::set<uint32_t> ids;
  std::set<std::string> urls;
  for (const std::shared_ptr<Replica>& replica : registry_.replicas()) {
    ids.insert(replica->id);
    urls.insert(replica->url);
  }
  EXPECT_EQ(ids, (std::set<uint32_t>{0, 1, 2}));
  EXPECT_EQ(urls.size(), 3u);
  EXPECT_EQ(table->maxReplicaId(), 2u);

  // A new URL in a later build gets the next id; the old ones keep theirs.
  GatewayConfig grown = config_;
  grown.models[1].versions[0].replicas.push_back(grown.models[0].versions[0].replicas[0]);
  grown.models[1].versions[0].replicas.back().url = "http://127.0.0.1:8004";
  grown.models[1].versions[0].replicas.back().port = 8004;
  std::shared_ptr<const RoutingTable> next = registry_.build(grown);
  const ModelRoute* embed = next->find("embed");
  ASSERT_NE(embed, nullptr);
  ASSERT_EQ(embed->versions[0].replicas.size(), 2u);
  EXPECT_EQ(embed->versions[0].replicas[1]->id, 3u);
  EXPECT_EQ(embed->versions[0].replicas[1]->port, 8004);
  EXPECT_EQ(next->maxReplicaId(), 3u);
  EXPECT_EQ(next->find("chat")->versions[0].replicas[0]->id,
            table->find("chat")->versions[0].replicas[0]->id);
}

TEST_F(RegistryTest, ResolvesLoopbackEndpoints) {
  std::shared_ptr<const RoutingTable> table = registry_.build(config_);
  for (const std::shared_ptr<Replica>& replica : registry_.replicas()) {
    EXPECT_TRUE(replica->resolved) << replica->url;
    EXPECT_EQ(replica->endpoint.address().to_string(), "127.0.0.1") << replica->url;
    EXPECT_EQ(replica->endpoint.port(), replica->port) << replica->url;
  }
}

TEST_F(RegistryTest, FindsModelsByNameAndAlias) {
  std::shared_ptr<const RoutingTable> table = registry_.build(config_);
  const ModelRoute* chat = table->find("chat");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(table->find("gpt-4o"), chat);
  EXPECT_EQ(table->find("chat-latest"), chat);
  const ModelRoute* embed = table->find("embed");
  ASSERT_NE(embed, nullptr);
  EXPECT_NE(embed, chat);
  EXPECT_EQ(table->find("unknown"), nullptr);
  EXPECT_EQ(table->find(""), nullptr);
  EXPECT_EQ(table->find("Chat"), nullptr);
}

TEST_F(RegistryTest, ModelListJsonNamesEveryModelAndAlias) {
  std::shared_ptr<const RoutingTable> table = registry_.build(config_);
  nlohmann::json list = nlohmann::json::parse(table->modelListJson(), nullptr, false);
  ASSERT_FALSE(list.is_discarded()) << table->modelListJson();
  EXPECT_EQ(list["object"], "list");
  ASSERT_TRUE(list["data"].is_array());
  std::vector<std::string> ids;
  for (const nlohmann::json& entry : list["data"]) {
    ids.push_back(entry["id"].get<std::string>());
    EXPECT_EQ(entry["object"], "model");
    EXPECT_EQ(entry["owned_by"], "deepwatch");
    EXPECT_TRUE(entry["created"].is_number_integer());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"chat", "gpt-4o", "chat-latest", "embed"}));
}

TEST_F(RegistryTest, GenerationIncreasesWithEveryBuild) {
  std::shared_ptr<const RoutingTable> first = registry_.build(config_);
  std::shared_ptr<const RoutingTable> second = registry_.build(config_);
  std::shared_ptr<const RoutingTable> third = registry_.build(config_);
  EXPECT_LT(first->generation(), second->generation());
  EXPECT_LT(second->generation(), third->generation());
}

TEST_F(RegistryTest, ModelIdsAreStableAcrossBuildsWhenOrderChanges) {
  std::shared_ptr<const RoutingTable> first = registry_.build(config_);
  uint32_t chat_id = first->find("chat")->id;
  uint32_t embed_id = first->find("embed")->id;
  EXPECT_NE(chat_id, embed_id);
  EXPECT_EQ(first->maxModelId(), 1u);

  GatewayConfig reversed = config_;
  std::reverse(reversed.models.begin(), reversed.models.end());
  std::shared_ptr<const RoutingTable> second = registry_.build(reversed);
  EXPECT_EQ(second->models()[0]->config.name, "embed");
  EXPECT_EQ(second->find("chat")->id, chat_id);
  EXPECT_EQ(second->find("embed")->id, embed_id);
  EXPECT_EQ(second->find("gpt-4o")->id, chat_id);

  // A model seen for the first time gets a new id; a removed one keeps its id reserved.
  GatewayConfig renamed = config_;
  renamed.models[1].name = "rerank";
  std::shared_ptr<const RoutingTable> third = registry_.build(renamed);
  EXPECT_EQ(third->find("embed"), nullptr);
  ASSERT_NE(third->find("rerank"), nullptr);
  EXPECT_EQ(third->find("rerank")->id, 2u);
  EXPECT_EQ(third->find("chat")->id, chat_id);
  EXPECT_EQ(third->maxModelId(), 2u);
}

TEST_F(RegistryTest, SnapshotOutlivesTheRegistryBuildingNewOnes) {
  std::shared_ptr<const RoutingTable> first = registry_.build(config_);
  GatewayConfig changed = config_;
  changed.models[0].versions[1].weight = 50;
  std::shared_ptr<const RoutingTable> second = registry_.build(changed);
  EXPECT_DOUBLE_EQ(first->find("chat")->versions[1].weight, 10);
  EXPECT_DOUBLE_EQ(second->find("chat")->versions[1].weight, 50);
}

}  // namespace
}  // namespace dw::gateway

namespace dw::gateway {
namespace {

// R9: the gateway's own zone first; unlabelled replicas count as local.
TEST(ZoneRoutingTest, LocalZoneReplicasComeFirstAndAreCounted) {
  GatewayConfig config = configOf(
      "zone: a\n"
      "models:\n"
      "  - name: chat\n"
      "    versions:\n"
      "      - id: v1\n"
      "        replicas:\n"
      "          - {url: http://127.0.0.1:8001, zone: b}\n"
      "          - {url: http://127.0.0.1:8002, zone: a}\n"
      "          - {url: http://127.0.0.1:8003}\n"
      "          - {url: http://127.0.0.1:8004, zone: c}\n");
  EXPECT_EQ(config.zone, "a");
  Registry registry;
  auto table = registry.build(config);
  const VersionRoute& v = table->find("chat")->versions[0];
  ASSERT_EQ(v.replicas.size(), 4u);
  EXPECT_EQ(v.local_replicas, 2u);
  EXPECT_EQ(v.replicas[0]->port, 8002);
  EXPECT_EQ(v.replicas[1]->port, 8003);
  EXPECT_EQ(v.replicas[2]->port, 8001);  // Other zones keep their configured order.
  EXPECT_EQ(v.replicas[3]->port, 8004);
  EXPECT_EQ(v.zones, (std::vector<std::string>{"a", "", "b", "c"}));
}

TEST(ZoneRoutingTest, WithoutAGatewayZoneEveryReplicaIsLocal) {
  GatewayConfig config = configOf(
      "models:\n"
      "  - name: chat\n"
      "    versions:\n"
      "      - id: v1\n"
      "        replicas: [{url: http://127.0.0.1:8001, zone: b}, {url: http://127.0.0.1:8002}]\n");
  Registry registry;
  auto table = registry.build(config);
  const VersionRoute& v = table->find("chat")->versions[0];
  EXPECT_EQ(v.local_replicas, 2u);
  EXPECT_EQ(v.replicas[0]->port, 8001);
}

TEST(ZoneRoutingTest, AZoneMustBeAString) {
  auto config = parseGatewayConfig(
      "models:\n"
      "  - name: chat\n"
      "    versions:\n"
      "      - id: v1\n"
      "        replicas: [{url: http://127.0.0.1:8001, zone: [a]}]\n",
      "bad.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("bad.yaml:5"), std::string::npos)
      << config.status().message();
  EXPECT_NE(config.status().message().find("zone"), std::string::npos);
}

}  // namespace
}  // namespace dw::gateway
