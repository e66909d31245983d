#include "security/rbac.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace dw::security {

namespace {

using json = nlohmann::json;

bool listHas(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& item) { return item == "*" || item == value; });
}

bool ruleMatches(const Rule& rule, const Permission& what) {
  if (!listHas(rule.api_groups, what.api_group) || !listHas(rule.resources, what.resource) ||
      !listHas(rule.verbs, what.verb)) {
    return false;
  }
  // A rule limited to named objects never allows the collection (list, create).
  return rule.resource_names.empty() ||
         (!what.name.empty() && std::find(rule.resource_names.begin(), rule.resource_names.end(),
                                          what.name) != rule.resource_names.end());
}

bool subjectMatches(const Subject& subject, const Principal& who) {
  if (subject.kind == "Group") {
    return std::find(who.groups.begin(), who.groups.end(), subject.name) != who.groups.end();
  }
  return subject.name == who.user;
}

Rule rule(std::vector<std::string> resources, std::vector<std::string> verbs) {
  return Rule{{std::string(kApiGroup)}, std::move(resources), std::move(verbs), {}};
}

}  // namespace

std::vector<Role> Rbac::builtinRoles() {
  const std::vector<std::string> fleet = {
      "models", "versions", "rollouts",    "events",  "settings", "alerts", "baselines",
      "config", "audit",    "experiments", "reports", "privacy",  "cluster"};
  std::vector<Role> roles;
  roles.push_back({"admin", {Rule{{"*"}, {"*"}, {"*"}, {}}}, true});
  std::vector<Rule> operate = {
      rule(fleet, {"get", "list", "watch"}),
      rule({"models"}, {"infer", "deploy", "rollback", "promote", "pause", "resume", "abort",
                        "scale", "update"}),
      rule({"settings"}, {"tune"}),
      rule({"baselines"}, {"create", "update"}),
      rule({"config"}, {"reload"}),
      rule({"experiments"}, {"create", "update", "delete"}),
      rule({"reports"}, {"create"}),
  };
  roles.push_back({"operator", std::move(operate), true});
  roles.push_back({"viewer", {rule(fleet, {"get", "list", "watch"})}, true});
  roles.push_back(
      {"client", {rule({"models"}, {"infer", "list"}), rule({"feedback"}, {"create"})}, true});
  // R7's example, as the specification gives it: read pods and services (Kubernetes' core
  // group), deploy and roll back models.
  roles.push_back({"model-operator",
                   {Rule{{""}, {"pods", "services"}, {"get", "list", "watch"}, {}},
                    Rule{{std::string(kApiGroup)}, {"models"}, {"deploy", "rollback"}, {}}},
                   true});
  return roles;
}

StatusOr<Rbac> Rbac::build(std::vector<Role> roles, std::vector<RoleBinding> bindings) {
  Rbac rbac;
  for (Role& role : roles) {
    if (role.name.empty()) {
      return invalidArgument("a role needs a name");
    }
    if (rbac.role(role.name) != nullptr) {
      return invalidArgument(fmt::format("role \"{}\" is defined twice", role.name));
    }
    rbac.roles_.push_back(std::move(role));
  }
  for (RoleBinding& binding : bindings) {
    if (binding.name.empty()) {
      return invalidArgument("a role binding needs a name");
    }
    if (rbac.role(binding.role) == nullptr) {
      return invalidArgument(fmt::format("role binding \"{}\" refers to the unknown role \"{}\"",
                                         binding.name, binding.role));
    }
    rbac.bindings_.push_back(std::move(binding));
  }
  return rbac;
}

const Role* Rbac::role(std::string_view name) const {
  for (const Role& r : roles_) {
    if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

std::vector<const Role*> Rbac::rolesOf(const Principal& who) const {
  std::vector<const Role*> out;
  for (const RoleBinding& binding : bindings_) {
    if (std::any_of(binding.subjects.begin(), binding.subjects.end(),
                    [&](const Subject& s) { return subjectMatches(s, who); })) {
      const Role* r = role(binding.role);
      if (r != nullptr && std::find(out.begin(), out.end(), r) == out.end()) {
        out.push_back(r);
      }
    }
  }
  return out;
}

const RoleBinding* Rbac::grant(const Principal& who, const Permission& what,
                               const Role** granted) const {
  for (const RoleBinding& binding : bindings_) {
    if (!std::any_of(binding.subjects.begin(), binding.subjects.end(),
                     [&](const Subject& s) { return subjectMatches(s, who); })) {
      continue;
    }
    const Role* r = role(binding.role);
    if (r != nullptr && std::any_of(r->rules.begin(), r->rules.end(),
                                    [&](const Rule& rule) { return ruleMatches(rule, what); })) {
      *granted = r;
      return &binding;
    }
  }
  return nullptr;
}

bool Rbac::allowed(const Principal& who, const Permission& what) const {
  const Role* granted = nullptr;
  return grant(who, what, &granted) != nullptr;
}

std::string Rbac::explain(const Principal& who, const Permission& what) const {
  const Role* granted = nullptr;
  if (const RoleBinding* binding = grant(who, what, &granted)) {
    return fmt::format("RBAC: allowed by RoleBinding \"{}\" of Role \"{}\"", binding->name,
                       granted->name);
  }
  return fmt::format("RBAC: \"{}\" may not {} {}{}{}", who.user, what.verb, what.resource,
                     what.name.empty() ? "" : "/", what.name);
}

bool Rbac::covers(const Principal& who, const Role& granted) const {
  // Every combination the role grants must be allowed to `who`. A wildcard in the granted rule
  // is a literal "*" here, which only a wildcard of the holder matches; the same for a rule
  // without resourceNames, which only a holder's rule without resourceNames covers.
  for (const Rule& rule : granted.rules) {
    for (const std::string& group : rule.api_groups) {
      for (const std::string& resource : rule.resources) {
        for (const std::string& verb : rule.verbs) {
          if (rule.resource_names.empty()) {
            if (!allowed(who, {group, resource, verb, ""})) {
              return false;
            }
            continue;
          }
          for (const std::string& name : rule.resource_names) {
            if (!allowed(who, {group, resource, verb, name})) {
              return false;
            }
          }
        }
      }
    }
  }
  return true;
}

namespace {

Status stringList(const json& object, const char* key, bool required,
                  std::vector<std::string>* out) {
  if (!object.contains(key)) {
    return required ? invalidArgument(fmt::format("'{}' is required", key)) : okStatus();
  }
  const json& list = object[key];
  if (!list.is_array()) {
    return invalidArgument(fmt::format("'{}' must be a list of strings", key));
  }
  for (const json& item : list) {
    if (!item.is_string()) {
      return invalidArgument(fmt::format("'{}' must be a list of strings", key));
    }
    out->push_back(item.get<std::string>());
  }
  if (required && out->empty()) {
    return invalidArgument(fmt::format("'{}' must not be empty", key));
  }
  return okStatus();
}

}  // namespace

StatusOr<Role> roleFromJson(const json& object) {
  if (!object.is_object()) {
    return invalidArgument("a role must be a JSON object");
  }
  Role role;
  if (!object.contains("name") || !object["name"].is_string() ||
      object["name"].get<std::string>().empty()) {
    return invalidArgument("'name' (a string) is required");
  }
  role.name = object["name"].get<std::string>();
  if (!object.contains("rules") || !object["rules"].is_array() || object["rules"].empty()) {
    return invalidArgument("'rules' (a non-empty list) is required");
  }
  for (const json& r : object["rules"]) {
    if (!r.is_object()) {
      return invalidArgument("each rule must be an object");
    }
    Rule rule;
    DW_RETURN_IF_ERROR(stringList(r, "apiGroups", true, &rule.api_groups));
    DW_RETURN_IF_ERROR(stringList(r, "resources", true, &rule.resources));
    DW_RETURN_IF_ERROR(stringList(r, "verbs", true, &rule.verbs));
    DW_RETURN_IF_ERROR(stringList(r, "resourceNames", false, &rule.resource_names));
    role.rules.push_back(std::move(rule));
  }
  return role;
}

StatusOr<RoleBinding> bindingFromJson(const json& object) {
  if (!object.is_object()) {
    return invalidArgument("a role binding must be a JSON object");
  }
  RoleBinding binding;
  if (!object.contains("name") || !object["name"].is_string() ||
      object["name"].get<std::string>().empty()) {
    return invalidArgument("'name' (a string) is required");
  }
  binding.name = object["name"].get<std::string>();
  if (object.contains("roleRef") && object["roleRef"].is_object() &&
      object["roleRef"].contains("name") && object["roleRef"]["name"].is_string()) {
    binding.role = object["roleRef"]["name"].get<std::string>();
  } else if (object.contains("role") && object["role"].is_string()) {
    binding.role = object["role"].get<std::string>();
  } else {
    return invalidArgument("'roleRef.name' (a string) is required");
  }
  if (!object.contains("subjects") || !object["subjects"].is_array() ||
      object["subjects"].empty()) {
    return invalidArgument("'subjects' (a non-empty list) is required");
  }
  for (const json& s : object["subjects"]) {
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string() ||
        s["name"].get<std::string>().empty()) {
      return invalidArgument("each subject needs a 'name'");
    }
    Subject subject{s.value("kind", std::string("User")), s["name"].get<std::string>()};
    if (subject.kind != "User" && subject.kind != "Group" && subject.kind != "ServiceAccount") {
      return invalidArgument("a subject's 'kind' must be User, Group or ServiceAccount");
    }
    if (subject.kind == "ServiceAccount") {
      subject.kind = "User";  // A key authenticates as a name; both kinds name one.
    }
    binding.subjects.push_back(std::move(subject));
  }
  return binding;
}

json toJson(const Role& role) {
  json rules = json::array();
  for (const Rule& r : role.rules) {
    json rule = {{"apiGroups", r.api_groups}, {"resources", r.resources}, {"verbs", r.verbs}};
    if (!r.resource_names.empty()) {
      rule["resourceNames"] = r.resource_names;
    }
    rules.push_back(std::move(rule));
  }
  return {{"name", role.name}, {"rules", std::move(rules)}, {"builtin", role.builtin}};
}

json toJson(const RoleBinding& binding) {
  json subjects = json::array();
  for (const Subject& s : binding.subjects) {
    subjects.push_back({{"kind", s.kind}, {"name", s.name}});
  }
  return {{"name", binding.name},
          {"roleRef", {{"kind", "Role"}, {"name", binding.role}}},
          {"subjects", std::move(subjects)},
          {"builtin", binding.builtin}};
}

}  // namespace dw::security
