// R7 + R9: what one gateway's admin API changes reaches another through the share hook and
// applyShared(), as control/cluster carries it through etcd.
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/access_control.h"

namespace dw::gateway {
namespace {

struct Instance {
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db;
  SnapshotSlot<security::AccessPolicy> slot;
  std::unique_ptr<AccessControl> access;
};

class AccessSharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (Instance* i : {&a_, &b_}) {
      std::string pattern = (std::filesystem::temp_directory_path() / "dw_share_XXXXXX").string();
      ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
      i->dir = pattern;
      auto db = store::Database::open((i->dir / "state.db").string());
      ASSERT_TRUE(db.ok());
      i->db = std::move(db).value();
      security::SecurityConfig config;
      auto access = AccessControl::create(config, *i->db, i->dir.string(), i->slot);
      ASSERT_TRUE(access.ok()) << access.status().toString();
      i->access = std::move(access).value();
    }
    a_.access->setShareHook([this](const std::string& item, const std::string& document) {
      if (!reachable_) {
        return unavailable("etcd is down");
      }
      shared_[item] = document;
      return okStatus();
    });
  }
  void TearDown() override {
    for (Instance* i : {&a_, &b_}) {
      i->access.reset();
      i->db.reset();
      std::filesystem::remove_all(i->dir);
    }
  }
  AccessControl::Reply onA(net::http::verb verb, const char* target, const std::string& body) {
    net::Request request{verb, target, 11};
    request.body() = body;
    return *a_.access->handle(request, AdminCaller{.actor = "admin"});
  }
  void deliverToB() {
    for (const auto& [item, document] : shared_) {
      Status s = b_.access->applyShared(item, document);
      ASSERT_TRUE(s.ok()) << item << ": " << s.toString();
    }
  }

  Instance a_;
  Instance b_;
  std::map<std::string, std::string> shared_;
  bool reachable_ = true;
};

TEST_F(AccessSharingTest, AKeyMadeOnOneGatewayAuthenticatesOnTheOtherUntilRevoked) {
  AccessControl::Reply made = onA(net::http::verb::post, "/admin/v1/keys",
                                  R"({"name":"ci","user":"ci","roles":["client"]})");
  ASSERT_EQ(made.status, 200) << made.body;
  const auto reply = nlohmann::json::parse(made.body);
  const std::string key = reply["key"];
  EXPECT_EQ(b_.access->policy()->authenticate(key, 0), nullptr);
  deliverToB();
  deliverToB();  // Applying an item twice changes nothing.
  const security::Principal* who = b_.access->policy()->authenticate(key, 0);
  ASSERT_NE(who, nullptr);
  EXPECT_EQ(who->user, "ci");
  // The shared document holds the digest, never the key.
  EXPECT_EQ(shared_.begin()->second.find(key), std::string::npos);

  const std::string revoke = "/admin/v1/keys/" + reply["id"].get<std::string>();
  ASSERT_EQ(onA(net::http::verb::delete_, revoke.c_str(), "").status, 200);
  deliverToB();
  EXPECT_EQ(b_.access->policy()->authenticate(key, 0), nullptr);
}

TEST_F(AccessSharingTest, RolesAndTheirDeletionTravel) {
  ASSERT_EQ(
      onA(net::http::verb::post, "/admin/v1/roles",
          R"({"name":"reader","rules":[{"apiGroups":["deepseek.ai"],"resources":["models"],"verbs":["get"]}]})")
          .status,
      200);
  deliverToB();
  EXPECT_NE(b_.access->policy()->rbac().role("reader"), nullptr);
  ASSERT_EQ(onA(net::http::verb::delete_, "/admin/v1/roles/reader", "").status, 200);
  deliverToB();
  EXPECT_EQ(b_.access->policy()->rbac().role("reader"), nullptr);
}

TEST_F(AccessSharingTest, NothingIsMadeWhenTheClusterCannotTakeIt) {
  reachable_ = false;
  AccessControl::Reply refused =
      onA(net::http::verb::post, "/admin/v1/keys", R"({"name":"ci","user":"ci"})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("cluster_unavailable"), std::string::npos);
  EXPECT_EQ(a_.access->policy()->keyCount(), 1u);  // The bootstrap admin key only.
}

TEST_F(AccessSharingTest, MalformedItemsAreRefused) {
  EXPECT_FALSE(b_.access->applyShared("keys/x", "not json").ok());
  EXPECT_FALSE(b_.access->applyShared("widgets/x", "{}").ok());
  EXPECT_FALSE(b_.access->applyShared("keys", "{}").ok());
}

}  // namespace
}  // namespace dw::gateway
