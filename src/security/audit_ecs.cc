#include "security/audit_ecs.h"

#include <nlohmann/json.hpp>

namespace dw::security {
namespace {

using OrderedJson = nlohmann::ordered_json;

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::vector<std::string> ecsCategories(std::string_view operation) {
  if (startsWith(operation, "key_") || startsWith(operation, "role_")) {
    return {"iam"};
  }
  return {"configuration"};
}

std::vector<std::string> ecsTypes(const AuditRecord& record) {
  const std::string& op = record.operation;
  std::vector<std::string> types;
  if (op == "key_create" || op == "role_bind") {
    types.push_back("creation");
  } else if (op == "key_revoke" || op == "role_unbind") {
    types.push_back("deletion");
  } else if (op == "impact") {
    types.push_back("info");
  } else {
    types.push_back("change");
  }
  if (record.rbac_decision == RbacDecision::kDeny || record.outcome == AuditOutcome::kDenied) {
    types.push_back("denied");
  }
  return types;
}

std::string_view ecsOutcome(AuditOutcome outcome) {
  return outcome == AuditOutcome::kSuccess ? "success" : "failure";
}

std::string ecsLine(const AuditEntry& entry) {
  const AuditRecord& r = entry.record;
  std::string message = r.operation;
  if (!r.target.empty()) {
    message += " " + r.target;
  }
  message += " by " + r.actor + ": " + std::string(auditOutcomeName(r.outcome));
  OrderedJson line;
  // ecs-logging: these three first, "log.level" as a dotted key.
  line["@timestamp"] = entry.time_iso;
  line["log.level"] = r.outcome == AuditOutcome::kSuccess ? "info" : "warn";
  line["message"] = message;
  line["ecs.version"] = kEcsVersion;
  OrderedJson event;
  event["kind"] = "event";
  event["category"] = ecsCategories(r.operation);
  event["type"] = ecsTypes(r);
  event["action"] = r.operation;
  event["outcome"] = ecsOutcome(r.outcome);
  event["sequence"] = entry.seq;
  event["id"] = entry.audit_id;
  event["dataset"] = "deepwatch.audit";
  event["module"] = "deepwatch";
  if (!r.reason.empty()) {
    event["reason"] = r.reason;
  }
  line["event"] = std::move(event);
  line["user"] = OrderedJson{{"name", r.actor}};
  if (!r.source_ip.empty()) {
    line["source"] = OrderedJson{{"ip", r.source_ip}};
  }
  line["related"] = OrderedJson{{"user", {r.actor}}, {"hash", {entry.entry_hash}}};
  line["service"] = OrderedJson{{"name", "deepwatch"}};
  // labels: flat keyword values for quick Kibana filters (keys without dots).
  line["labels"] = OrderedJson{{"target", r.target},
                               {"actor_kind", actorKindName(r.actor_kind)},
                               {"rbac_decision", rbacDecisionName(r.rbac_decision)}};
  // deepwatch.audit: everything else, the hashes included, so the chain can be re-verified from
  // Elasticsearch. details stays a JSON string: free-form objects would fight over mappings.
  OrderedJson audit;
  audit["seq"] = entry.seq;
  audit["time_ms"] = entry.time_ms;
  audit["actor_kind"] = actorKindName(r.actor_kind);
  audit["target"] = r.target;
  audit["version_before"] = r.version_before;
  audit["version_after"] = r.version_after;
  audit["rbac"] =
      OrderedJson{{"decision", rbacDecisionName(r.rbac_decision)}, {"reason", r.rbac_reason}};
  audit["outcome"] = auditOutcomeName(r.outcome);
  audit["details"] = r.details_json;
  if (!r.refers_to.empty()) {
    audit["refers_to"] = r.refers_to;
  }
  if (r.impact.has_value()) {
    OrderedJson metrics = OrderedJson::array();
    for (const ImpactMetric& metric : r.impact->metrics) {
      metrics.push_back(OrderedJson{{"name", metric.name},
                                    {"before", metric.before},
                                    {"after", metric.after},
                                    {"delta", metric.after - metric.before}});
    }
    audit["impact"] = OrderedJson{{"window_ms", r.impact->window_ms},
                                  {"verdict", r.impact->verdict},
                                  {"metrics", std::move(metrics)}};
  }
  audit["prev_hash"] = entry.prev_hash;
  audit["leaf_hash"] = entry.leaf_hash;
  audit["entry_hash"] = entry.entry_hash;
  line["deepwatch"] = OrderedJson{{"audit", std::move(audit)}};
  return line.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

}  // namespace dw::security
