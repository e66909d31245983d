#include "gateway/access_control.h"

#include <fmt/format.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/log.h"
#include "gateway/dashboard.h"
#include "net/json_error.h"
#include "security/api_keys.h"

namespace dw::gateway {

namespace {

using json = nlohmann::json;
namespace http = net::http;

std::string_view segment(std::string_view path, size_t index) {
  size_t start = 0;
  for (size_t i = 0; i < index; ++i) {
    start = path.find('/', start + 1);
    if (start == std::string_view::npos) {
      return {};
    }
  }
  const size_t end = path.find('/', start + 1);
  return path.substr(start + 1,
                     end == std::string_view::npos ? std::string_view::npos : end - start - 1);
}

std::string bodyModel(const net::Request& request) {
  json body = json::parse(request.body(), nullptr, false);
  if (body.is_object() && body.contains("model") && body["model"].is_string()) {
    return body["model"].get<std::string>();
  }
  return "";
}

AccessControl::Reply error(int status, std::string_view message, std::string_view code) {
  const char* type = status == 403 ? "permission_error" : "invalid_request_error";
  return {status, net::openAiErrorJson(message, type, "", code)};
}

AccessControl::Reply fromStatus(const Status& status) {
  return error(httpStatusFor(status.code()), status.message(), "");
}

// A change the cluster's store could not take is not made (AccessControl::setShareHook).
AccessControl::Reply unshared(const Status& status) {
  return error(503,
               fmt::format("The change was not made: the cluster's store cannot take it ({}).",
                           status.message()),
               "cluster_unavailable");
}

// A key as shared between gateways: its row (the digest, never the key) and the bindings made
// with it.
std::string keyDocument(const security::KeyRow& row,
                        const std::vector<security::RoleBinding>& bindings) {
  json out = {{"id", row.id},
              {"name", row.name},
              {"user", row.principal.user},
              {"groups", row.principal.groups},
              {"digest", row.digest_hex},
              {"last4", row.last4},
              {"created_ms", row.created_ms},
              {"created_by", row.created_by},
              {"expires_ms", row.expires_ms},
              {"revoked_ms", row.revoked_ms},
              {"bindings", json::array()}};
  for (const security::RoleBinding& b : bindings) {
    out["bindings"].push_back(security::toJson(b));
  }
  return out.dump();
}

}  // namespace

AdminPermission permissionFor(const net::Request& request, bool public_metrics) {
  using Kind = AdminPermission::Kind;
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const http::verb method = request.method();
  const bool get = method == http::verb::get;
  const bool post = method == http::verb::post;
  const bool put = method == http::verb::put;
  const bool del = method == http::verb::delete_;
  AdminPermission p;
  p.mutating = !get && method != http::verb::head;
  auto rbac = [&](std::string resource, std::string verb, std::string name = "") {
    p.resource = std::move(resource);
    p.verb = std::move(verb);
    p.name = std::move(name);
    return p;
  };
  if (path == "/healthz" || path == "/readyz") {
    p.kind = Kind::kPublic;
    return p;
  }
  if (Dashboard::handles(path)) {
    // The dashboard's static files hold no data (R6): the page reads everything through the
    // admin API with the viewer's own key. Other methods are answered 405 there.
    p.kind = Kind::kPublic;
    p.mutating = false;
    return p;
  }
  if (path == "/metrics") {
    if (public_metrics && get) {
      p.kind = Kind::kPublic;
      return p;
    }
    return rbac("metrics", "get");
  }
  if (!path.starts_with("/admin/v1/")) {
    return rbac("unknown", std::string(request.method_string()));
  }
  const std::string_view kind = segment(path, 2);
  const std::string name(segment(path, 3));
  const std::string_view action = segment(path, 4);
  if (kind == "whoami") {
    p.kind = Kind::kAuthenticated;
    return p;
  }
  if (kind == "models") {
    if (put && action == "weights") {
      return rbac("models", "update", name);
    }
    return rbac("models", name.empty() ? "list" : "get", name);
  }
  if (kind == "rollouts") {
    if (post && name.empty()) {
      return rbac("models", "deploy", bodyModel(request));
    }
    if (post) {
      return rbac("models", std::string(action), name);
    }
    return rbac("rollouts", "list");
  }
  if (kind == "rollback" && post) {
    return rbac("models", "rollback", bodyModel(request));
  }
  if (kind == "scale" && post) {
    return rbac("models", "scale", bodyModel(request));
  }
  if (kind == "settings") {
    return post ? rbac("settings", "tune") : rbac("settings", "get");
  }
  if (kind == "reload" && post) {
    return rbac("config", "reload");
  }
  if (kind == "baselines") {
    return rbac("baselines", post ? "create" : put ? "update" : "get", name);
  }
  if (kind == "cluster" && get) {
    return rbac("cluster", "get");
  }
  if (kind == "keys" || kind == "roles" || kind == "rolebindings" || kind == "versions" ||
      kind == "events" || kind == "alerts" || kind == "audit" || kind == "experiments" ||
      kind == "reports" || kind == "privacy") {
    const char* verb = get    ? (name.empty() ? "list" : "get")
                       : post ? (name.empty() ? "create" : "update")
                       : put  ? "update"
                       : del  ? "delete"
                              : "unknown";
    return rbac(std::string(kind), verb, name);
  }
  return rbac("unknown", std::string(request.method_string()));
}

namespace {

// May `who` send this request? The decision handleAdmin makes, without sending it.
bool mayRequest(const security::AccessPolicy& policy, const security::Principal& who,
                bool public_metrics, http::verb method, std::string_view target,
                std::string body = "") {
  net::Request request{method, target, 11};
  request.body() = std::move(body);
  const AdminPermission need = permissionFor(request, public_metrics);
  if (!policy.enabled() || need.kind != AdminPermission::Kind::kRbac) {
    return true;  // Public, or any authenticated caller (whoami is only asked by one).
  }
  return policy.rbac().allowed(who, {security::kApiGroup, need.resource, need.verb, need.name});
}

}  // namespace

CallerAbilities callerAbilities(const security::AccessPolicy& policy,
                                const security::Principal& who,
                                const std::vector<std::string>& models, bool public_metrics) {
  using V = http::verb;
  struct Action {
    const char* name;
    V method;
    const char* target;
  };
  // The admin calls the dashboard makes: its panels' reads and the buttons it may show.
  static constexpr Action kActions[] = {
      {"metrics.get", V::get, "/metrics"},
      {"alerts.list", V::get, "/admin/v1/alerts"},
      {"versions.list", V::get, "/admin/v1/versions"},
      {"rollouts.list", V::get, "/admin/v1/rollouts"},
      {"events.list", V::get, "/admin/v1/events"},
      {"audit.list", V::get, "/admin/v1/audit"},
      {"experiments.list", V::get, "/admin/v1/experiments"},
      {"experiments.create", V::post, "/admin/v1/experiments"},
      {"experiments.stop", V::post, "/admin/v1/experiments/*/stop"},
      {"reports.list", V::get, "/admin/v1/reports"},
      {"reports.create", V::post, "/admin/v1/reports"},
      {"settings.get", V::get, "/admin/v1/settings"},
      {"settings.tune", V::post, "/admin/v1/settings"},
      {"keys.list", V::get, "/admin/v1/keys"},
      {"config.reload", V::post, "/admin/v1/reload"},
  };
  CallerAbilities out;
  for (const Action& a : kActions) {
    out.can[a.name] = mayRequest(policy, who, public_metrics, a.method, a.target);
  }
  // Model actions name the model in the path or in the body, as the requests do.
  static constexpr const char* kRolloutActions[] = {"promote", "pause", "resume", "abort"};
  for (const std::string& model : models) {
    auto& can = out.per_model[model];
    const std::string body = json{{"model", model}}.dump();
    can["deploy"] = mayRequest(policy, who, public_metrics, V::post, "/admin/v1/rollouts", body);
    can["rollback"] = mayRequest(policy, who, public_metrics, V::post, "/admin/v1/rollback", body);
    can["scale"] = mayRequest(policy, who, public_metrics, V::post, "/admin/v1/scale", body);
    can["weights"] = mayRequest(policy, who, public_metrics, V::put,
                                fmt::format("/admin/v1/models/{}/weights", model));
    for (const char* action : kRolloutActions) {
      can[action] = mayRequest(policy, who, public_metrics, V::post,
                               fmt::format("/admin/v1/rollouts/{}/{}", model, action));
    }
  }
  for (const char* action :
       {"deploy", "rollback", "scale", "weights", "promote", "pause", "resume", "abort"}) {
    bool everywhere = !models.empty();
    for (const std::string& model : models) {
      everywhere = everywhere && out.per_model[model][action];
    }
    out.can[fmt::format("models.{}", action)] = everywhere;
  }
  return out;
}

StatusOr<std::unique_ptr<AccessControl>> AccessControl::create(
    const security::SecurityConfig& config, store::Database& db, const std::string& state_dir,
    SnapshotSlot<security::AccessPolicy>& slot) {
  DW_ASSIGN_OR_RETURN(security::AccessStore access_store, security::AccessStore::open(db));
  std::unique_ptr<AccessControl> control(new AccessControl(config, std::move(access_store), slot));
  if (config.auth) {
    DW_RETURN_IF_ERROR(control->bootstrap(state_dir));
  }
  DW_RETURN_IF_ERROR(control->rebuild());
  return control;
}

Status AccessControl::bootstrap(const std::string& state_dir) {
  DW_ASSIGN_OR_RETURN(auto keys, store_.keys(true));
  if (!keys.empty()) {
    return okStatus();
  }
  const std::string file = config_.admin_key_file.empty()
                               ? (std::filesystem::path(state_dir) / "admin.key").string()
                               : config_.admin_key_file;
  security::NewKey key = security::generateKey();
  security::KeyRow row;
  row.id = key.id;
  row.name = "bootstrap admin";
  row.principal.user = "admin";
  row.digest_hex = security::toHex(key.digest);
  row.last4 = key.last4;
  row.created_ms = wallClockMs();
  row.created_by = "deepwatch";
  // The file first: a key stored but never shown would lock everyone out.
  DW_RETURN_IF_ERROR(security::writeSecretFile(file, key.key + "\n"));
  DW_RETURN_IF_ERROR(store_.addKey(row));
  DW_RETURN_IF_ERROR(store_.putBinding({"admin", "admin", {{"User", "admin"}}, false}));
  DW_LOG_WARN("created the first admin key ({}) and wrote it to {}",
              security::maskKey(key.id, key.last4), file);
  return okStatus();
}

Status AccessControl::reconfigure(const security::SecurityConfig& config) {
  config_ = config;
  return rebuild();
}

Status AccessControl::rebuild() {
  std::vector<security::Role> roles = security::Rbac::builtinRoles();
  roles.insert(roles.end(), config_.roles.begin(), config_.roles.end());
  DW_ASSIGN_OR_RETURN(std::vector<security::Role> stored, store_.roles());
  for (security::Role& role : stored) {
    roles.push_back(std::move(role));
  }
  std::vector<security::RoleBinding> bindings = config_.bindings;
  DW_ASSIGN_OR_RETURN(std::vector<security::RoleBinding> stored_bindings, store_.bindings());
  for (security::RoleBinding& b : stored_bindings) {
    bindings.push_back(std::move(b));
  }
  DW_ASSIGN_OR_RETURN(security::Rbac rbac, security::Rbac::build(roles, bindings));
  DW_ASSIGN_OR_RETURN(std::vector<security::KeyEntry> keys, store_.keyEntries());
  policy_.publish(
      std::make_shared<const security::AccessPolicy>(config_.auth, std::move(keys), rbac));
  return okStatus();
}

security::Principal AccessControl::principalOf(const AdminCaller& caller) const {
  return {caller.actor, caller.groups};
}

std::optional<AccessControl::Reply> AccessControl::handle(const net::Request& request,
                                                          const AdminCaller& caller,
                                                          const std::vector<std::string>& models) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const http::verb method = request.method();
  const std::string_view kind = segment(path, 2);
  const std::string name(segment(path, 3));
  if (kind == "whoami") {
    auto policy = policy_.load();
    json roles = json::array();
    for (const security::Role* r : policy->rbac().rolesOf(principalOf(caller))) {
      roles.push_back(r->name);
    }
    const CallerAbilities abilities =
        callerAbilities(*policy, principalOf(caller), models, config_.public_metrics);
    return Reply{200, json{{"user", caller.actor},
                           {"groups", caller.groups},
                           {"roles", roles},
                           {"authentication", policy->enabled()},
                           {"can", abilities.can},
                           {"can_model", abilities.per_model}}
                          .dump()};
  }
  if (kind == "keys") {
    if (method == http::verb::get) {
      auto rows = store_.keys(request.target().find("revoked=true") != std::string_view::npos);
      if (!rows.ok()) {
        return fromStatus(rows.status());
      }
      json out = json::array();
      for (const auto& k : *rows) {
        out.push_back({{"id", k.id},
                       {"key", security::maskKey(k.id, k.last4)},
                       {"name", k.name},
                       {"user", k.principal.user},
                       {"groups", k.principal.groups},
                       {"created_ms", k.created_ms},
                       {"created_by", k.created_by},
                       {"revoked_ms", k.revoked_ms},
                       {"expires_ms", k.expires_ms}});
      }
      return Reply{200, json{{"keys", out}}.dump()};
    }
    if (method == http::verb::post && name.empty()) {
      return createKey(request.body(), caller);
    }
    if (method == http::verb::delete_ && !name.empty()) {
      const int64_t now_ms = wallClockMs();
      if (share_) {
        auto rows = store_.keys(false);
        if (!rows.ok()) {
          return fromStatus(rows.status());
        }
        auto row = std::find_if(rows->begin(), rows->end(),
                                [&](const security::KeyRow& k) { return k.id == name; });
        if (row != rows->end()) {
          row->revoked_ms = now_ms;
          if (Status s = share("keys/" + name, keyDocument(*row, {})); !s.ok()) {
            return unshared(s);
          }
        }
      }
      if (Status s = store_.revokeKey(name, now_ms); !s.ok()) {
        return fromStatus(s);
      }
      if (Status s = rebuild(); !s.ok()) {
        return fromStatus(s);
      }
      return Reply{200, json{{"revoked", name}}.dump()};
    }
    return error(405, "Method not allowed.", "method_not_allowed");
  }
  if (kind == "roles" || kind == "rolebindings") {
    const bool binding = kind == "rolebindings";
    if (method == http::verb::get) {
      auto policy = policy_.load();
      json out = json::array();
      if (binding) {
        for (const auto& b : policy->rbac().bindings()) {
          out.push_back(security::toJson(b));
        }
      } else {
        for (const auto& r : policy->rbac().roles()) {
          out.push_back(security::toJson(r));
        }
      }
      return Reply{200, json{{std::string(kind), out}}.dump()};
    }
    if (method == http::verb::post && name.empty()) {
      return putRbacObject(binding, request.body(), caller);
    }
    if (method == http::verb::delete_ && !name.empty()) {
      return deleteRbacObject(binding, name, caller);
    }
    return error(405, "Method not allowed.", "method_not_allowed");
  }
  return std::nullopt;
}

AccessControl::Reply AccessControl::createKey(const std::string& body_text,
                                              const AdminCaller& caller) {
  json body = json::parse(body_text, nullptr, false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      body["name"].get<std::string>().empty()) {
    return error(400, "The body must be a JSON object with a 'name'.", "invalid_body");
  }
  security::KeyRow row;
  row.name = body["name"].get<std::string>();
  row.principal.user = body.value("user", row.name);
  if (body.contains("groups") && body["groups"].is_array()) {
    for (const json& g : body["groups"]) {
      if (g.is_string()) {
        row.principal.groups.push_back(g.get<std::string>());
      }
    }
  }
  std::vector<std::string> roles;
  if (body.contains("roles") && body["roles"].is_array()) {
    for (const json& r : body["roles"]) {
      if (r.is_string()) {
        roles.push_back(r.get<std::string>());
      }
    }
  }
  // No escalation: every role given with the key must be one the caller holds in full.
  auto policy = policy_.load();
  const security::Principal granter = principalOf(caller);
  for (const std::string& r : roles) {
    const security::Role* role = policy->rbac().role(r);
    if (role == nullptr) {
      return error(400, fmt::format("There is no role '{}'.", r), "unknown_role");
    }
    if (policy->enabled() && !policy->rbac().covers(granter, *role)) {
      return error(403,
                   fmt::format("You may not grant the role '{}': it has permissions you do "
                               "not hold.",
                               r),
                   "escalation_denied");
    }
  }
  if (body.contains("expires_in_seconds") && body["expires_in_seconds"].is_number()) {
    const double seconds = body["expires_in_seconds"].get<double>();
    if (!(seconds > 0)) {
      return error(400, "'expires_in_seconds' must be positive.", "invalid_body");
    }
    row.expires_ms = wallClockMs() + static_cast<int64_t>(seconds * 1000);
  }
  security::NewKey key = security::generateKey();
  row.id = key.id;
  row.digest_hex = security::toHex(key.digest);
  row.last4 = key.last4;
  row.created_ms = wallClockMs();
  row.created_by = caller.actor.empty() ? "anonymous" : caller.actor;
  std::vector<security::RoleBinding> bindings;
  for (const std::string& r : roles) {
    bindings.push_back({row.principal.user + "-" + r, r, {{"User", row.principal.user}}, false});
  }
  if (Status s = share("keys/" + row.id, keyDocument(row, bindings)); !s.ok()) {
    return unshared(s);
  }
  if (Status s = store_.addKeyWithBindings(row, bindings); !s.ok()) {
    return fromStatus(s);
  }
  if (Status s = rebuild(); !s.ok()) {
    return fromStatus(s);
  }
  return Reply{200, json{{"id", row.id},
                         {"key", key.key},
                         {"masked", security::maskKey(key.id, key.last4)},
                         {"user", row.principal.user},
                         {"roles", roles},
                         {"note", "The key is shown once; store it now."}}
                        .dump()};
}

AccessControl::Reply AccessControl::putRbacObject(bool binding, const std::string& body_text,
                                                  const AdminCaller& caller) {
  json body = json::parse(body_text, nullptr, false);
  auto policy = policy_.load();
  const security::Principal granter = principalOf(caller);
  if (binding) {
    auto parsed = security::bindingFromJson(body);
    if (!parsed.ok()) {
      return error(400, parsed.status().message(), "invalid_body");
    }
    const security::Role* role = policy->rbac().role(parsed->role);
    if (role == nullptr) {
      return error(400, fmt::format("There is no role '{}'.", parsed->role), "unknown_role");
    }
    if (policy->enabled() && !policy->rbac().covers(granter, *role)) {
      return error(403,
                   fmt::format("You may not bind the role '{}': it has permissions you do not "
                               "hold.",
                               parsed->role),
                   "escalation_denied");
    }
    for (const auto& b : policy->rbac().bindings()) {
      if (b.name == parsed->name && b.builtin) {
        return error(409, "That binding comes from the configuration file.", "builtin");
      }
    }
    if (Status s = share("bindings/" + parsed->name, security::toJson(*parsed).dump()); !s.ok()) {
      return unshared(s);
    }
    if (Status s = store_.putBinding(*parsed); !s.ok()) {
      return fromStatus(s);
    }
    if (Status s = rebuild(); !s.ok()) {
      return fromStatus(s);
    }
    return Reply{200, security::toJson(*parsed).dump()};
  }
  auto parsed = security::roleFromJson(body);
  if (!parsed.ok()) {
    return error(400, parsed.status().message(), "invalid_body");
  }
  if (const security::Role* existing = policy->rbac().role(parsed->name);
      existing != nullptr && existing->builtin) {
    return error(409, "That role is built in or comes from the configuration file.", "builtin");
  }
  if (policy->enabled() && !policy->rbac().covers(granter, *parsed)) {
    return error(403, "You may not create a role with permissions you do not hold.",
                 "escalation_denied");
  }
  if (Status s = share("roles/" + parsed->name, security::toJson(*parsed).dump()); !s.ok()) {
    return unshared(s);
  }
  if (Status s = store_.putRole(*parsed); !s.ok()) {
    return fromStatus(s);
  }
  if (Status s = rebuild(); !s.ok()) {
    return fromStatus(s);
  }
  return Reply{200, security::toJson(*parsed).dump()};
}

AccessControl::Reply AccessControl::deleteRbacObject(bool binding, const std::string& name,
                                                     const AdminCaller& caller) {
  (void)caller;
  auto policy = policy_.load();
  if (binding) {
    for (const auto& b : policy->rbac().bindings()) {
      if (b.name == name) {
        if (b.builtin) {
          return error(409, "That binding comes from the configuration file.", "builtin");
        }
        if (Status s = share("bindings/" + name, ""); !s.ok()) {
          return unshared(s);
        }
        if (Status s = store_.deleteBinding(name); !s.ok()) {
          return fromStatus(s);
        }
        if (Status s = rebuild(); !s.ok()) {
          return fromStatus(s);
        }
        return Reply{200, json{{"deleted", name}}.dump()};
      }
    }
    return error(404, fmt::format("There is no role binding '{}'.", name), "not_found");
  }
  const security::Role* role = policy->rbac().role(name);
  if (role == nullptr) {
    return error(404, fmt::format("There is no role '{}'.", name), "not_found");
  }
  if (role->builtin) {
    return error(409, "That role is built in or comes from the configuration file.", "builtin");
  }
  for (const auto& b : policy->rbac().bindings()) {
    if (b.role == name) {
      return error(409, fmt::format("The role binding '{}' still uses it.", b.name), "in_use");
    }
  }
  if (Status s = share("roles/" + name, ""); !s.ok()) {
    return unshared(s);
  }
  if (Status s = store_.deleteRole(name); !s.ok()) {
    return fromStatus(s);
  }
  if (Status s = rebuild(); !s.ok()) {
    return fromStatus(s);
  }
  return Reply{200, json{{"deleted", name}}.dump()};
}

Status AccessControl::share(const std::string& item, const std::string& document) {
  return share_ ? share_(item, document) : okStatus();
}

Status AccessControl::applyShared(const std::string& item, const std::string& document) {
  const size_t slash = item.find('/');
  const std::string kind = item.substr(0, slash);
  const std::string name = slash == std::string::npos ? "" : item.substr(slash + 1);
  json doc = document.empty() ? json() : json::parse(document, nullptr, false);
  if (name.empty() || doc.is_discarded() || (!document.empty() && !doc.is_object())) {
    return invalidArgument("a malformed shared access item: " + item);
  }
  if (kind == "keys") {
    if (doc.is_null()) {
      return invalidArgument("a shared key without its document: " + item);
    }
    if (doc.value("revoked_ms", int64_t{0}) > 0) {
      if (Status s = store_.revokeKey(name, doc.value("revoked_ms", int64_t{0}));
          !s.ok() && s.code() != StatusCode::kNotFound) {
        return s;
      }
      return rebuild();
    }
    DW_ASSIGN_OR_RETURN(std::vector<security::KeyRow> known, store_.keys(true));
    if (std::any_of(known.begin(), known.end(),
                    [&](const security::KeyRow& k) { return k.id == name; })) {
      return okStatus();  // This gateway made it, or applied it already.
    }
    security::KeyRow row;
    row.id = name;
    row.name = doc.value("name", "");
    row.principal.user = doc.value("user", "");
    row.principal.groups = doc.value("groups", std::vector<std::string>{});
    row.digest_hex = doc.value("digest", "");
    row.last4 = doc.value("last4", "");
    row.created_ms = doc.value("created_ms", int64_t{0});
    row.created_by = doc.value("created_by", "");
    row.expires_ms = doc.value("expires_ms", int64_t{0});
    std::vector<security::RoleBinding> bindings;
    for (const json& b : doc.value("bindings", json::array())) {
      DW_ASSIGN_OR_RETURN(security::RoleBinding binding, security::bindingFromJson(b));
      bindings.push_back(std::move(binding));
    }
    DW_RETURN_IF_ERROR(store_.addKeyWithBindings(row, bindings));
    return rebuild();
  }
  if (kind == "roles") {
    if (doc.is_null()) {
      DW_RETURN_IF_ERROR(store_.deleteRole(name));
    } else {
      DW_ASSIGN_OR_RETURN(security::Role role, security::roleFromJson(doc));
      DW_RETURN_IF_ERROR(store_.putRole(role));
    }
    return rebuild();
  }
  if (kind == "bindings") {
    if (doc.is_null()) {
      DW_RETURN_IF_ERROR(store_.deleteBinding(name));
    } else {
      DW_ASSIGN_OR_RETURN(security::RoleBinding binding, security::bindingFromJson(doc));
      DW_RETURN_IF_ERROR(store_.putBinding(binding));
    }
    return rebuild();
  }
  return invalidArgument("an unknown shared access item: " + item);
}

}  // namespace dw::gateway
