// Role-based access control shaped like Kubernetes' (R7): roles hold rules (apiGroups,
// resources, verbs, resourceNames), bindings give roles to subjects (users, groups), and a
// request is allowed only when some rule of some role bound to its subject matches. Default
// deny, purely additive: there are no deny rules. Nobody can grant a permission they do not
// hold (no escalation): a role may be bound, or created, only by a subject whose own rules cover
// every rule of it.
//
// Thread contract: an Rbac is immutable once built (published to the workers in the security
// snapshot); every const method is thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace dw::security {

// The API group of deepwatch's own resources (the specification's model-operator role uses it).
inline constexpr std::string_view kApiGroup = "deepseek.ai";

struct Rule {
  std::vector<std::string> api_groups;      // "*" for any
  std::vector<std::string> resources;       // "*" for any
  std::vector<std::string> verbs;           // "*" for any
  std::vector<std::string> resource_names;  // empty: every object of the resources
};

struct Role {
  std::string name;
  std::vector<Rule> rules;
  bool builtin = false;  // Shipped or from the configuration file: not deletable over the API.
};

struct Subject {
  std::string kind;  // "User" (an identity, what a key authenticates as) or "Group"
  std::string name;
};

struct RoleBinding {
  std::string name;
  std::string role;
  std::vector<Subject> subjects;
  bool builtin = false;
};

// What a request asks to do: a verb on a resource of a group, optionally one named object.
struct Permission {
  std::string_view api_group = kApiGroup;
  std::string_view resource;
  std::string_view verb;
  std::string_view name;  // empty: the collection
};

// Who asks.
struct Principal {
  std::string user;
  std::vector<std::string> groups;
};

class Rbac {
 public:
  // The roles every installation has: admin (everything), operator (operate the fleet, read
  // everything but keys and roles), viewer (read), client (call every model), and the
  // specification's model-operator example.
  static std::vector<Role> builtinRoles();

  // Fails on a binding that names a role that does not exist, or an empty name.
  static StatusOr<Rbac> build(std::vector<Role> roles, std::vector<RoleBinding> bindings);

  bool allowed(const Principal& who, const Permission& what) const;
  // Why: "RBAC: allowed by RoleBinding \"b\" of Role \"r\"" or "RBAC: no rule allows ..." (the
  // audit log's rbac_reason, as Kubernetes annotates its audit events).
  std::string explain(const Principal& who, const Permission& what) const;
  // Whether `who` holds every permission that `role` grants (the no-escalation check).
  bool covers(const Principal& who, const Role& role) const;

  const Role* role(std::string_view name) const;
  const std::vector<Role>& roles() const { return roles_; }
  const std::vector<RoleBinding>& bindings() const { return bindings_; }
  // The roles bound to a principal.
  std::vector<const Role*> rolesOf(const Principal& who) const;

 private:
  // The first binding (and its role) that allows `what` to `who`, or nullptr.
  const RoleBinding* grant(const Principal& who, const Permission& what,
                           const Role** granted) const;

  std::vector<Role> roles_;
  std::vector<RoleBinding> bindings_;
};

// JSON in the Kubernetes shape: {"name", "rules": [{"apiGroups", "resources", "verbs",
// "resourceNames"}]} and {"name", "roleRef": {"name"}, "subjects": [{"kind", "name"}]} ("role"
// is accepted for roleRef.name). Errors name the field.
StatusOr<Role> roleFromJson(const nlohmann::json& json);
StatusOr<RoleBinding> bindingFromJson(const nlohmann::json& json);
nlohmann::json toJson(const Role& role);
nlohmann::json toJson(const RoleBinding& binding);

}  // namespace dw::security
