// The Elastic Common Schema mapping of audit entries (R8: analysis in ELK). One entry becomes
// one NDJSON line that Filebeat's ndjson parser ships unchanged (deploy/filebeat.yml); the field
// mapping is in docs/design/audit.md.
//
// Thread contract: pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "security/audit_log.h"

namespace dw::security {

inline constexpr std::string_view kEcsVersion = "8.11.0";

// ["iam"] for key and role operations, ["configuration"] for the rest.
std::vector<std::string> ecsCategories(std::string_view operation);
// ["creation"], ["deletion"], ["info"] or ["change"] by operation, plus "denied" when RBAC
// denied it.
std::vector<std::string> ecsTypes(const AuditRecord& record);
// "success", "failure" (failed or denied).
std::string_view ecsOutcome(AuditOutcome outcome);

// One ECS JSON object, without the trailing newline. "@timestamp", "log.level" and "message"
// come first, as the ecs-logging spec asks.
std::string ecsLine(const AuditEntry& entry);

}  // namespace dw::security
