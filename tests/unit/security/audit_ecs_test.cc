#include "security/audit_ecs.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace dw::security {
namespace {

AuditEntry entry(const std::string& operation) {
  AuditEntry e;
  e.seq = 7;
  e.time_ms = 1'787'000'000'123;
  e.time_iso = "2026-08-17T20:53:20.123456Z";
  e.audit_id = "00112233445566778899aabbccddeeff";
  e.prev_hash = std::string(64, '1');
  e.leaf_hash = std::string(64, '2');
  e.entry_hash = std::string(64, '3');
  e.record.actor = "alice";
  e.record.operation = operation;
  e.record.target = "chat/v2";
  e.record.version_before = "v1";
  e.record.version_after = "v2";
  e.record.reason = "canary passed";
  e.record.source_ip = "10.0.3.7";
  e.record.details_json = R"({"weight":10})";
  return e;
}

TEST(AuditEcsTest, LineParsesWithTheEcsFields) {
  const std::string line = ecsLine(entry("deploy"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.rfind(R"({"@timestamp":"2026-08-17T20:53:20.123456Z","log.level":"info",)", 0),
            0u);
  auto json = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["ecs.version"], "8.11.0");
  EXPECT_EQ(json["event"]["kind"], "event");
  EXPECT_EQ(json["event"]["category"], nlohmann::json::array({"configuration"}));
  EXPECT_EQ(json["event"]["type"], nlohmann::json::array({"change"}));
  EXPECT_EQ(json["event"]["action"], "deploy");
  EXPECT_EQ(json["event"]["outcome"], "success");
  EXPECT_EQ(json["event"]["sequence"], 7);
  EXPECT_EQ(json["event"]["id"], "00112233445566778899aabbccddeeff");
  EXPECT_EQ(json["user"]["name"], "alice");
  EXPECT_EQ(json["source"]["ip"], "10.0.3.7");
  EXPECT_EQ(json["related"]["hash"][0], std::string(64, '3'));
  EXPECT_EQ(json["labels"]["target"], "chat/v2");
  const auto& audit = json["deepwatch"]["audit"];
  EXPECT_EQ(audit["version_before"], "v1");
  EXPECT_EQ(audit["version_after"], "v2");
  EXPECT_EQ(audit["prev_hash"], std::string(64, '1'));
  EXPECT_EQ(audit["entry_hash"], std::string(64, '3'));
  EXPECT_EQ(audit["details"], R"({"weight":10})");
}

TEST(AuditEcsTest, KeyAndRoleOperationsAreIam) {
  EXPECT_EQ(ecsCategories("key_create"), std::vector<std::string>{"iam"});
  EXPECT_EQ(ecsCategories("role_unbind"), std::vector<std::string>{"iam"});
  EXPECT_EQ(ecsCategories("tune"), std::vector<std::string>{"configuration"});
  EXPECT_EQ(ecsTypes(entry("key_create").record), std::vector<std::string>{"creation"});
  EXPECT_EQ(ecsTypes(entry("key_revoke").record), std::vector<std::string>{"deletion"});
  EXPECT_EQ(ecsTypes(entry("impact").record), std::vector<std::string>{"info"});
}

TEST(AuditEcsTest, DeniedOperationsFailWithADeniedType) {
  AuditEntry e = entry("rollback");
  e.record.outcome = AuditOutcome::kDenied;
  e.record.rbac_decision = RbacDecision::kDeny;
  e.record.source_ip.clear();
  auto json = nlohmann::json::parse(ecsLine(e), nullptr, false);
  EXPECT_EQ(json["event"]["outcome"], "failure");
  EXPECT_EQ(json["event"]["type"], nlohmann::json::array({"change", "denied"}));
  EXPECT_EQ(json["log.level"], "warn");
  EXPECT_FALSE(json.contains("source"));
  EXPECT_EQ(json["deepwatch"]["audit"]["outcome"], "denied");
}

TEST(AuditEcsTest, ImpactCarriesItsMetricsAndLink) {
  AuditEntry e = entry("impact");
  e.record.refers_to = "ffeeddccbbaa99887766554433221100";
  e.record.impact = ImpactAssessment{300000, {{"p99_latency_us", 820000, 610000}}, "improved"};
  auto json = nlohmann::json::parse(ecsLine(e), nullptr, false);
  const auto& impact = json["deepwatch"]["audit"]["impact"];
  EXPECT_EQ(json["deepwatch"]["audit"]["refers_to"], "ffeeddccbbaa99887766554433221100");
  EXPECT_EQ(impact["window_ms"], 300000);
  EXPECT_EQ(impact["metrics"][0]["delta"], -210000);
  EXPECT_EQ(impact["verdict"], "improved");
}

}  // namespace
}  // namespace dw::security
