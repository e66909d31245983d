// Authentication and authorization at the gateway's doors (R7): which permission each admin
// request needs, the security snapshot the API workers check keys against, and the admin API of
// keys, roles and role bindings. The first start creates an admin key and writes it, once, to
// `security.admin_key_file` (mode 0600): the only place a key is ever written in the clear.
//
// Thread contract: create() and the mutating methods run on the control thread; policy() and
// permissionFor() are thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "gateway/snapshot.h"
#include "net/http_server.h"
#include "security/access_policy.h"
#include "security/access_store.h"
#include "security/security_config.h"
#include "store/database.h"

namespace dw::gateway {

// Who called the admin API, as the audit log and the controller record it.
struct AdminCaller {
  std::string actor;  // The authenticated user; empty when authentication is off.
  std::vector<std::string> groups;
  std::string source_ip;
  std::string rbac_reason;  // Why RBAC allowed it.
};

// What an admin request needs: a permission, or nothing (public), or "any authenticated caller".
struct AdminPermission {
  enum class Kind { kPublic, kAuthenticated, kRbac } kind = Kind::kRbac;
  std::string resource;
  std::string verb;
  std::string name;       // From the path, or from the body's "model".
  bool mutating = false;  // Changes state: audited.
};

AdminPermission permissionFor(const net::Request& request, bool public_metrics);

// What the dashboard may offer a caller (GET /admin/v1/whoami's "can"): for each admin action it
// shows, whether the caller may do it, decided by the same permissionFor() and RBAC as the
// request itself would be. It only hides what the caller could not use; every call is still
// checked when it comes.
struct CallerAbilities {
  // "audit.list", "reports.create", ... and "models.rollback" (true when allowed on every model).
  std::map<std::string, bool> can;
  // model -> "rollback", "promote", "pause", "resume", "abort", "deploy", "scale", "weights".
  std::map<std::string, std::map<std::string, bool>> per_model;
};
CallerAbilities callerAbilities(const security::AccessPolicy& policy,
                                const security::Principal& who,
                                const std::vector<std::string>& models, bool public_metrics);

class AccessControl {
 public:
  // Publishes the security snapshot into `slot` (the gateway's; the API workers read it).
  static StatusOr<std::unique_ptr<AccessControl>> create(
      const security::SecurityConfig& config, store::Database& db, const std::string& state_dir,
      SnapshotSlot<security::AccessPolicy>& slot);

  std::shared_ptr<const security::AccessPolicy> policy() const { return policy_.load(); }

  struct Reply {
    int status = 200;
    std::string body;
  };
  // /admin/v1/keys, /admin/v1/roles, /admin/v1/rolebindings, /admin/v1/whoami (whose "can" and
  // "can_model" cover `models`, the configured model names). Control thread.
  std::optional<Reply> handle(const net::Request& request, const AdminCaller& caller,
                              const std::vector<std::string>& models = {});

  // Reapplies the configuration's roles and bindings (after a reload). Control thread.
  Status reconfigure(const security::SecurityConfig& config);

  // Several gateways (R9): every change made through this admin API is first handed to `hook`
  // as (item, document): item "keys/<id>", "roles/<name>" or "bindings/<name>", document its
  // JSON ("" when deleted). The change is made here only when the hook succeeds (it stores the
  // item in etcd), so an acknowledged key or role is never known to one gateway alone.
  using ShareHook = std::function<Status(const std::string& item, const std::string& document)>;
  void setShareHook(ShareHook hook) { share_ = std::move(hook); }
  // Applies an item shared by another gateway (or this one's, coming back). Control thread.
  Status applyShared(const std::string& item, const std::string& document);

 private:
  AccessControl(security::SecurityConfig config, security::AccessStore store,
                SnapshotSlot<security::AccessPolicy>& slot)
      : config_(std::move(config)), store_(std::move(store)), policy_(slot) {}
  Status rebuild();
  Status bootstrap(const std::string& state_dir);
  Reply createKey(const std::string& body, const AdminCaller& caller);
  Reply putRbacObject(bool binding, const std::string& body, const AdminCaller& caller);
  Reply deleteRbacObject(bool binding, const std::string& name, const AdminCaller& caller);
  security::Principal principalOf(const AdminCaller& caller) const;
  Status share(const std::string& item, const std::string& document);

  security::SecurityConfig config_;
  security::AccessStore store_;
  SnapshotSlot<security::AccessPolicy>& policy_;
  ShareHook share_;
};

}  // namespace dw::gateway
