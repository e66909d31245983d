#include "security/security_config.h"

#include <fmt/format.h>

#include <functional>

#include "base/yaml_reader.h"

namespace dw::security {

namespace {

Status parseMode(YamlMap& map, PiiModelConfig* out) {
  DW_RETURN_IF_ERROR(map.string("mode", &out->mode));
  if (out->mode != "mask" && out->mode != "hash" && out->mode != "block") {
    return yamlError(map.placeOf("mode"), map.get("mode"), "must be mask, hash or block");
  }
  DW_RETURN_IF_ERROR(map.boolean("forward_redacted", &out->forward_redacted));
  DW_RETURN_IF_ERROR(map.boolean("scan_output", &out->scan_output));
  return okStatus();
}

Status parseList(YamlMap& parent, std::string_view key,
                 const std::function<Status(const YAML::Node&, YamlPlace)>& each) {
  YAML::Node list = parent.get(key);
  if (!list.IsDefined() || list.IsNull()) {
    return okStatus();
  }
  const YamlPlace place = parent.placeOf(key);
  if (!list.IsSequence()) {
    return yamlError(place, list, "must be a list");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    DW_RETURN_IF_ERROR(each(list[i], YamlPlace{place.file, fmt::format("{}[{}]", place.path, i)}));
  }
  return okStatus();
}

}  // namespace

StatusOr<SecurityConfig> parseSecurityConfig(const YAML::Node& node, const std::string& file) {
  SecurityConfig config;
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, YamlPlace{&file, "security"}));
  DW_RETURN_IF_ERROR(map.boolean("auth", &config.auth));
  DW_RETURN_IF_ERROR(map.string("admin_key_file", &config.admin_key_file));
  DW_RETURN_IF_ERROR(map.boolean("public_metrics", &config.public_metrics));

  std::vector<Role> builtin = Rbac::builtinRoles();
  auto known_role = [&](const std::string& name) {
    for (const Role& r : builtin) {
      if (r.name == name) return true;
    }
    for (const Role& r : config.roles) {
      if (r.name == name) return true;
    }
    return false;
  };
  DW_RETURN_IF_ERROR(parseList(map, "roles", [&](const YAML::Node& n, YamlPlace place) -> Status {
    DW_ASSIGN_OR_RETURN(YamlMap r, YamlMap::make(n, place));
    Role role;
    role.builtin = true;
    DW_RETURN_IF_ERROR(r.string("name", &role.name, true));
    if (known_role(role.name)) {
      return yamlError(r.placeOf("name"), r.get("name"), "names a role that exists already");
    }
    DW_RETURN_IF_ERROR(parseList(r, "rules", [&](const YAML::Node& rn, YamlPlace rp) -> Status {
      DW_ASSIGN_OR_RETURN(YamlMap m, YamlMap::make(rn, rp));
      Rule rule;
      DW_RETURN_IF_ERROR(m.stringList("apiGroups", &rule.api_groups));
      DW_RETURN_IF_ERROR(m.stringList("resources", &rule.resources));
      DW_RETURN_IF_ERROR(m.stringList("verbs", &rule.verbs));
      DW_RETURN_IF_ERROR(m.stringList("resourceNames", &rule.resource_names));
      if (rule.api_groups.empty() || rule.resources.empty() || rule.verbs.empty()) {
        return yamlError(rp, rn, "a rule needs apiGroups, resources and verbs");
      }
      role.rules.push_back(std::move(rule));
      return m.finish();
    }));
    if (role.rules.empty()) {
      return yamlError(place, n, "a role needs rules");
    }
    config.roles.push_back(std::move(role));
    return r.finish();
  }));
  DW_RETURN_IF_ERROR(
      parseList(map, "bindings", [&](const YAML::Node& n, YamlPlace place) -> Status {
        DW_ASSIGN_OR_RETURN(YamlMap b, YamlMap::make(n, place));
        RoleBinding binding;
        binding.builtin = true;
        DW_RETURN_IF_ERROR(b.string("name", &binding.name, true));
        DW_RETURN_IF_ERROR(b.string("role", &binding.role, true));
        if (!known_role(binding.role)) {
          return yamlError(b.placeOf("role"), b.get("role"), "names an unknown role");
        }
        DW_RETURN_IF_ERROR(
            parseList(b, "subjects", [&](const YAML::Node& sn, YamlPlace sp) -> Status {
              DW_ASSIGN_OR_RETURN(YamlMap s, YamlMap::make(sn, sp));
              Subject subject{"User", ""};
              DW_RETURN_IF_ERROR(s.string("kind", &subject.kind));
              DW_RETURN_IF_ERROR(s.string("name", &subject.name, true));
              if (subject.kind == "ServiceAccount") {
                subject.kind = "User";
              }
              if (subject.kind != "User" && subject.kind != "Group") {
                return yamlError(s.placeOf("kind"), s.get("kind"),
                                 "must be User, Group or ServiceAccount");
              }
              binding.subjects.push_back(std::move(subject));
              return s.finish();
            }));
        if (binding.subjects.empty()) {
          return yamlError(place, n, "a binding needs subjects");
        }
        config.bindings.push_back(std::move(binding));
        return b.finish();
      }));

  {
    DW_ASSIGN_OR_RETURN(YamlMap p, YamlMap::make(map.get("pii"), map.placeOf("pii")));
    DW_RETURN_IF_ERROR(p.boolean("enabled", &config.pii.enabled));
    DW_RETURN_IF_ERROR(p.stringList("types", &config.pii.types));
    DW_RETURN_IF_ERROR(p.string("hash_key_file", &config.pii.hash_key_file));
    DW_RETURN_IF_ERROR(parseMode(p, &config.pii.defaults));
    YAML::Node models = p.get("models");
    if (models.IsDefined() && !models.IsNull()) {
      if (!models.IsMap()) {
        return yamlError(p.placeOf("models"), models, "must map model names to settings");
      }
      for (const auto& entry : models) {
        const std::string name = entry.first.as<std::string>("");
        DW_ASSIGN_OR_RETURN(
            YamlMap m,
            YamlMap::make(entry.second, YamlPlace{&file, "security.pii.models." + name}));
        PiiModelConfig model = config.pii.defaults;
        DW_RETURN_IF_ERROR(parseMode(m, &model));
        DW_RETURN_IF_ERROR(m.finish());
        config.pii.models[name] = model;
      }
    }
    DW_RETURN_IF_ERROR(p.finish());
  }
  {
    DW_ASSIGN_OR_RETURN(YamlMap d, YamlMap::make(map.get("privacy"), map.placeOf("privacy")));
    DW_RETURN_IF_ERROR(d.number("epsilon", 1e-6, 1e6, &config.privacy.epsilon));
    DW_RETURN_IF_ERROR(d.number("budget", 1e-6, 1e9, &config.privacy.budget));
    DW_RETURN_IF_ERROR(d.finish());
  }
  {
    DW_ASSIGN_OR_RETURN(YamlMap a, YamlMap::make(map.get("audit"), map.placeOf("audit")));
    DW_RETURN_IF_ERROR(a.string("path", &config.audit.path));
    DW_RETURN_IF_ERROR(a.string("ecs_path", &config.audit.ecs_path));
    DW_RETURN_IF_ERROR(a.duration("impact_window", &config.audit.impact_window));
    DW_RETURN_IF_ERROR(a.finish());
  }
  DW_RETURN_IF_ERROR(map.finish());
  return config;
}

}  // namespace dw::security
