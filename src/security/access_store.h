// Where the keys, roles and bindings created over the admin API live: SQLite, next to the rest of
// the state (the configuration file's roles and bindings are added to them at start, read-only).
// A key is stored as its SHA-256 digest, never in the clear.
//
// Thread contract: the control thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "security/access_policy.h"
#include "security/rbac.h"
#include "store/database.h"

namespace dw::security {

struct KeyRow {
  std::string id;
  std::string name;  // What the key is for ("ci", "grafana"...).
  Principal principal;
  std::string digest_hex;
  std::string last4;
  int64_t created_ms = 0;
  std::string created_by;
  int64_t revoked_ms = 0;  // 0: active
  int64_t expires_ms = 0;  // 0: never
};

class AccessStore {
 public:
  static StatusOr<AccessStore> open(store::Database& db);

  Status addKey(const KeyRow& key);
  // The key and the bindings of its roles together or not at all (one transaction), so that a
  // crash or a full disk never leaves a key without its roles.
  Status addKeyWithBindings(const KeyRow& key, const std::vector<RoleBinding>& bindings);
  // NotFound when there is no such active key.
  Status revokeKey(const std::string& id, int64_t now_ms);
  StatusOr<std::vector<KeyRow>> keys(bool include_revoked);

  Status putRole(const Role& role);
  Status deleteRole(const std::string& name);
  StatusOr<std::vector<Role>> roles();
  Status putBinding(const RoleBinding& binding);
  Status deleteBinding(const std::string& name);
  StatusOr<std::vector<RoleBinding>> bindings();

  // The active keys for the snapshot.
  StatusOr<std::vector<KeyEntry>> keyEntries();

 private:
  explicit AccessStore(store::Database& db) : db_(&db) {}
  store::Database* db_;
};

}  // namespace dw::security
