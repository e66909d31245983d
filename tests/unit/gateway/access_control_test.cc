#include "gateway/access_control.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dw::gateway {
namespace {

using security::AccessPolicy;
using security::Rbac;
using security::Role;
using security::RoleBinding;
using security::Rule;

AccessPolicy policyWith(bool enabled) {
  std::vector<Role> roles = Rbac::builtinRoles();
  roles.push_back({"fortune-operator",
                   {Rule{{"deepseek.ai"}, {"models"}, {"rollback", "promote"}, {"fortune"}}},
                   false});
  std::vector<RoleBinding> bindings = {
      {"o", "operator", {{"User", "olga"}}, false},
      {"v", "viewer", {{"User", "vera"}}, false},
      {"a", "admin", {{"User", "root"}}, false},
      {"m", "model-operator", {{"User", "mo"}}, false},
      {"f", "fortune-operator", {{"User", "fay"}}, false},
  };
  auto rbac = Rbac::build(roles, bindings);
  EXPECT_TRUE(rbac.ok()) << rbac.status().toString();
  return AccessPolicy(enabled, {}, *rbac);
}

const std::vector<std::string> kModels = {"fortune", "private"};

TEST(PermissionForTest, TheDashboardsFilesArePublicAndUnaudited) {
  for (const char* target : {"/", "/ui", "/ui/", "/ui/app.js", "/ui/../admin/v1/keys"}) {
    net::Request request{net::http::verb::get, target, 11};
    const AdminPermission p = permissionFor(request, false);
    EXPECT_EQ(p.kind, AdminPermission::Kind::kPublic) << target;
    EXPECT_FALSE(p.mutating) << target;
  }
  // Near misses stay default-deny.
  for (const char* target : {"/uix", "/u", "/admin/v1/ui"}) {
    net::Request request{net::http::verb::get, target, 11};
    EXPECT_EQ(permissionFor(request, false).kind, AdminPermission::Kind::kRbac) << target;
  }
}

TEST(CallerAbilitiesTest, AViewerMayReadButNotAct) {
  const CallerAbilities a = callerAbilities(policyWith(true), {"vera", {}}, kModels, true);
  for (const char* read : {"metrics.get", "alerts.list", "versions.list", "rollouts.list",
                           "audit.list", "experiments.list", "reports.list", "events.list"}) {
    EXPECT_TRUE(a.can.at(read)) << read;
  }
  for (const char* act : {"models.rollback", "models.promote", "models.pause", "models.abort",
                          "models.deploy", "reports.create", "experiments.create", "keys.list"}) {
    EXPECT_FALSE(a.can.at(act)) << act;
  }
  EXPECT_FALSE(a.per_model.at("fortune").at("rollback"));
}

TEST(CallerAbilitiesTest, AnOperatorMayOperateEveryModelButNotManageKeys) {
  const CallerAbilities a = callerAbilities(policyWith(true), {"olga", {}}, kModels, true);
  for (const char* act :
       {"models.rollback", "models.promote", "models.pause", "models.resume", "models.abort",
        "models.deploy", "models.scale", "models.weights", "reports.create", "experiments.create",
        "experiments.stop", "settings.tune", "audit.list"}) {
    EXPECT_TRUE(a.can.at(act)) << act;
  }
  EXPECT_FALSE(a.can.at("keys.list"));
  for (const std::string& model : kModels) {
    for (const auto& [action, allowed] : a.per_model.at(model)) {
      EXPECT_TRUE(allowed) << model << " " << action;
    }
  }
}

TEST(CallerAbilitiesTest, AdminMayDoEverything) {
  const CallerAbilities a = callerAbilities(policyWith(true), {"root", {}}, kModels, false);
  for (const auto& [action, allowed] : a.can) {
    EXPECT_TRUE(allowed) << action;
  }
}

TEST(CallerAbilitiesTest, ModelScopedRolesShowPerModelAndMetricsFollowTheSetting) {
  // The specification's model-operator may deploy and roll back but not promote, and reads
  // nothing of deepwatch's own (so not the metrics, unless they are public).
  const CallerAbilities mo = callerAbilities(policyWith(true), {"mo", {}}, kModels, false);
  EXPECT_TRUE(mo.can.at("models.rollback"));
  EXPECT_TRUE(mo.can.at("models.deploy"));
  EXPECT_FALSE(mo.can.at("models.promote"));
  EXPECT_FALSE(mo.can.at("metrics.get"));
  EXPECT_FALSE(mo.can.at("audit.list"));
  EXPECT_TRUE(callerAbilities(policyWith(true), {"mo", {}}, kModels, true).can.at("metrics.get"));
  // A role limited to one model: allowed there, so not "on every model".
  const CallerAbilities fay = callerAbilities(policyWith(true), {"fay", {}}, kModels, true);
  EXPECT_TRUE(fay.per_model.at("fortune").at("rollback"));
  EXPECT_TRUE(fay.per_model.at("fortune").at("promote"));
  EXPECT_FALSE(fay.per_model.at("fortune").at("abort"));
  EXPECT_FALSE(fay.per_model.at("private").at("rollback"));
  EXPECT_FALSE(fay.can.at("models.rollback"));
}

TEST(CallerAbilitiesTest, WithAuthenticationOffEverythingIsAllowed) {
  const CallerAbilities a = callerAbilities(policyWith(false), {"", {}}, kModels, false);
  for (const auto& [action, allowed] : a.can) {
    EXPECT_TRUE(allowed) << action;
  }
  EXPECT_TRUE(a.per_model.at("private").at("abort"));
}

TEST(CallerAbilitiesTest, AnUnboundCallerMayDoNothing) {
  const CallerAbilities a = callerAbilities(policyWith(true), {"nobody", {}}, kModels, false);
  for (const auto& [action, allowed] : a.can) {
    EXPECT_FALSE(allowed) << action;
  }
}

}  // namespace
}  // namespace dw::gateway
