// The `security:` section (docs/configuration.md): authentication and RBAC (R7), PII
// desensitization (R7), differential privacy of released aggregates (R7), the audit log (R8).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/duration.h"
#include "base/status.h"
#include "security/rbac.h"

namespace dw::security {

struct PiiModelConfig {
  std::string mode = "mask";      // mask | hash | block
  bool forward_redacted = false;  // Redact the request before it goes upstream.
  bool scan_output = false;       // Redact responses (streamed ones too).
};

struct PiiConfig {
  bool enabled = true;
  std::vector<std::string> types;  // Empty: every detector.
  PiiModelConfig defaults;
  std::map<std::string, PiiModelConfig> models;  // Per model name.
  std::string hash_key_file;                     // The HMAC key of hash mode; created when missing.
  std::string hash_key;                          // Its contents, read at start (not a YAML key).
};

struct PrivacyConfig {
  double epsilon = 1.0;  // Per release of a set of counts.
  double budget = 10.0;  // Per release id (a report week, a baseline).
};

struct AuditConfig {
  std::string path;                                   // Default: <state_dir>/audit.db
  std::string ecs_path;                               // Default: <state_dir>/audit.ndjson
  Duration impact_window = std::chrono::seconds(60);  // The window before and after an operation.
};

struct SecurityConfig {
  bool auth = true;            // Off only for local development: everyone is anonymous admin.
  std::string admin_key_file;  // Default: <state_dir>/admin.key, written at the first start.
  bool public_metrics = true;  // /metrics without a key (Prometheus scrapes it).
  std::vector<Role> roles;     // Added to the built-in roles.
  std::vector<RoleBinding> bindings;
  PiiConfig pii;
  PrivacyConfig privacy;
  AuditConfig audit;
};

StatusOr<SecurityConfig> parseSecurityConfig(const YAML::Node& node, const std::string& file);

}  // namespace dw::security
