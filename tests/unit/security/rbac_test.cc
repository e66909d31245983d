#include "security/rbac.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dw::security {
namespace {

Rbac build(std::vector<RoleBinding> bindings, std::vector<Role> extra = {}) {
  std::vector<Role> roles = Rbac::builtinRoles();
  roles.insert(roles.end(), extra.begin(), extra.end());
  auto rbac = Rbac::build(roles, std::move(bindings));
  EXPECT_TRUE(rbac.ok()) << rbac.status().toString();
  return *rbac;
}

TEST(RbacTest, DefaultDenyAndAdditiveBindings) {
  const Rbac rbac = build(
      {{"b1", "viewer", {{"User", "vera"}}, false}, {"b2", "client", {{"Group", "apps"}}, false}});
  EXPECT_FALSE(rbac.allowed({"nobody", {}}, {kApiGroup, "versions", "list", ""}));
  EXPECT_TRUE(rbac.allowed({"vera", {}}, {kApiGroup, "versions", "list", ""}));
  EXPECT_FALSE(rbac.allowed({"vera", {}}, {kApiGroup, "models", "deploy", "fortune"}));
  EXPECT_TRUE(rbac.allowed({"ann", {"apps"}}, {kApiGroup, "models", "infer", "fortune"}));
  EXPECT_TRUE(rbac.allowed({"vera", {"apps"}}, {kApiGroup, "models", "infer", "fortune"}));
}

TEST(RbacTest, ModelOperatorIsTheSpecificationsRole) {
  const Rbac rbac = build({{"b", "model-operator", {{"User", "mo"}}, false}});
  EXPECT_TRUE(rbac.allowed({"mo", {}}, {"", "pods", "list", ""}));
  EXPECT_TRUE(rbac.allowed({"mo", {}}, {"", "services", "watch", ""}));
  EXPECT_TRUE(rbac.allowed({"mo", {}}, {kApiGroup, "models", "deploy", "fortune"}));
  EXPECT_TRUE(rbac.allowed({"mo", {}}, {kApiGroup, "models", "rollback", "fortune"}));
  EXPECT_FALSE(rbac.allowed({"mo", {}}, {kApiGroup, "models", "promote", "fortune"}));
  EXPECT_FALSE(rbac.allowed({"mo", {}}, {"", "pods", "delete", ""}));
}

TEST(RbacTest, ResourceNamesLimitToNamedObjectsAndNeverTheCollection) {
  Role only{"only-fortune", {Rule{{"deepseek.ai"}, {"models"}, {"infer"}, {"fortune"}}}, false};
  const Rbac rbac = build({{"b", "only-fortune", {{"User", "u"}}, false}}, {only});
  EXPECT_TRUE(rbac.allowed({"u", {}}, {kApiGroup, "models", "infer", "fortune"}));
  EXPECT_FALSE(rbac.allowed({"u", {}}, {kApiGroup, "models", "infer", "secret"}));
  EXPECT_FALSE(rbac.allowed({"u", {}}, {kApiGroup, "models", "infer", ""}));
}

TEST(RbacTest, NobodyGrantsWhatTheyDoNotHold) {
  Role narrow{"narrow", {Rule{{"deepseek.ai"}, {"models"}, {"infer"}, {"fortune"}}}, false};
  const Rbac rbac = build({{"a", "admin", {{"User", "root"}}, false},
                           {"o", "operator", {{"User", "op"}}, false},
                           {"n", "narrow", {{"User", "nn"}}, false}},
                          {narrow});
  const Role* admin = rbac.role("admin");
  const Role* operator_role = rbac.role("operator");
  const Role* client = rbac.role("client");
  EXPECT_TRUE(rbac.covers({"root", {}}, *admin));
  EXPECT_TRUE(rbac.covers({"op", {}}, *operator_role));
  EXPECT_FALSE(rbac.covers({"op", {}}, *admin));   // A wildcard needs a wildcard.
  EXPECT_FALSE(rbac.covers({"op", {}}, *client));  // Operator may infer, not post feedback.
  EXPECT_TRUE(rbac.covers({"nn", {}}, narrow));
  Role wider{"wider", {Rule{{"deepseek.ai"}, {"models"}, {"infer"}, {}}}, false};
  EXPECT_FALSE(rbac.covers({"nn", {}}, wider));  // Named objects do not cover the collection.
}

TEST(RbacTest, BuildRejectsUnknownRolesAndDuplicates) {
  EXPECT_FALSE(Rbac::build(Rbac::builtinRoles(), {{"b", "nope", {{"User", "u"}}, false}}).ok());
  std::vector<Role> twice = Rbac::builtinRoles();
  twice.push_back(twice.front());
  EXPECT_FALSE(Rbac::build(twice, {}).ok());
}

TEST(RbacTest, ExplainNamesTheBindingOrTheRefusal) {
  const Rbac rbac = build({{"vera-viewer", "viewer", {{"User", "vera"}}, false}});
  EXPECT_EQ(rbac.explain({"vera", {}}, {kApiGroup, "versions", "list", ""}),
            "RBAC: allowed by RoleBinding \"vera-viewer\" of Role \"viewer\"");
  EXPECT_EQ(rbac.explain({"vera", {}}, {kApiGroup, "models", "deploy", "fortune"}),
            "RBAC: \"vera\" may not deploy models/fortune");
}

TEST(RbacTest, JsonRoundTripsAndNamesBadFields) {
  auto role = roleFromJson(nlohmann::json::parse(
      R"({"name":"r","rules":[{"apiGroups":["deepseek.ai"],"resources":["models"],"verbs":["get"]}]})"));
  ASSERT_TRUE(role.ok());
  auto back = roleFromJson(toJson(*role));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->rules[0].verbs, std::vector<std::string>{"get"});
  auto bad = roleFromJson(nlohmann::json::parse(R"({"name":"r","rules":[{"apiGroups":[1]}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("apiGroups"), std::string::npos);
  auto binding = bindingFromJson(nlohmann::json::parse(
      R"({"name":"b","roleRef":{"name":"viewer"},"subjects":[{"kind":"ServiceAccount","name":"ci"}]})"));
  ASSERT_TRUE(binding.ok());
  EXPECT_EQ(binding->subjects[0].kind, "User");
}

}  // namespace
}  // namespace dw::security
