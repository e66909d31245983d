#include "security/access_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace dw::security {

namespace {

using json = nlohmann::json;
using store::Statement;

std::string groupsJson(const std::vector<std::string>& groups) { return json(groups).dump(); }

std::vector<std::string> groupsFrom(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (parsed.is_array()) {
    for (const json& g : parsed) {
      if (g.is_string()) {
        out.push_back(g.get<std::string>());
      }
    }
  }
  return out;
}

}  // namespace

StatusOr<AccessStore> AccessStore::open(store::Database& db) {
  DW_RETURN_IF_ERROR(db.exec(
      "CREATE TABLE IF NOT EXISTS api_keys ("
      " id TEXT PRIMARY KEY, name TEXT NOT NULL, subject TEXT NOT NULL, groups TEXT NOT NULL,"
      " digest TEXT NOT NULL, last4 TEXT NOT NULL, created_ms INTEGER NOT NULL,"
      " created_by TEXT NOT NULL, revoked_ms INTEGER NOT NULL DEFAULT 0,"
      " expires_ms INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE IF NOT EXISTS rbac_roles (name TEXT PRIMARY KEY, body TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS rbac_bindings (name TEXT PRIMARY KEY, body TEXT NOT NULL)"));
  return AccessStore(db);
}

Status AccessStore::addKey(const KeyRow& key) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("INSERT INTO api_keys (id, name, subject, groups, digest,"
                                   " last4, created_ms, created_by, expires_ms)"
                                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.bind(1, key.id).bind(2, key.name).bind(3, key.principal.user);
  s.bind(4, groupsJson(key.principal.groups)).bind(5, key.digest_hex).bind(6, key.last4);
  s.bind(7, key.created_ms).bind(8, key.created_by).bind(9, key.expires_ms);
  return s.run();
}

Status AccessStore::addKeyWithBindings(const KeyRow& key,
                                       const std::vector<RoleBinding>& bindings) {
  DW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  Status status = addKey(key);
  for (const RoleBinding& binding : bindings) {
    if (!status.ok()) {
      break;
    }
    status = putBinding(binding);
  }
  if (status.ok()) {
    status = db_->exec("COMMIT");
  }
  if (!status.ok()) {
    (void)db_->exec("ROLLBACK");
  }
  return status;
}

Status AccessStore::revokeKey(const std::string& id, int64_t now_ms) {
  {
    DW_ASSIGN_OR_RETURN(Statement s,
                        db_->prepare("SELECT 1 FROM api_keys WHERE id = ? AND revoked_ms = 0"));
    s.bind(1, id);
    DW_ASSIGN_OR_RETURN(bool found, s.step());
    if (!found) {
      return notFound(fmt::format("no active key with id {}", id));
    }
  }
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("UPDATE api_keys SET revoked_ms = ? WHERE id = ?"));
  s.bind(1, now_ms).bind(2, id);
  return s.run();
}

StatusOr<std::vector<KeyRow>> AccessStore::keys(bool include_revoked) {
  DW_ASSIGN_OR_RETURN(
      Statement s,
      db_->prepare(include_revoked
                       ? "SELECT id, name, subject, groups, digest, last4, created_ms, created_by,"
                         " revoked_ms, expires_ms FROM api_keys ORDER BY created_ms, id"
                       : "SELECT id, name, subject, groups, digest, last4, created_ms, created_by,"
                         " revoked_ms, expires_ms FROM api_keys WHERE revoked_ms = 0"
                         " ORDER BY created_ms, id"));
  std::vector<KeyRow> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      break;
    }
    KeyRow k;
    k.id = s.text(0);
    k.name = s.text(1);
    k.principal.user = s.text(2);
    k.principal.groups = groupsFrom(s.text(3));
    k.digest_hex = s.text(4);
    k.last4 = s.text(5);
    k.created_ms = s.integer(6);
    k.created_by = s.text(7);
    k.revoked_ms = s.integer(8);
    k.expires_ms = s.integer(9);
    rows.push_back(std::move(k));
  }
  return rows;
}

StatusOr<std::vector<KeyEntry>> AccessStore::keyEntries() {
  DW_ASSIGN_OR_RETURN(std::vector<KeyRow> rows, keys(false));
  std::vector<KeyEntry> out;
  for (KeyRow& row : rows) {
    KeyEntry entry;
    if (!fromHex(row.digest_hex, &entry.digest)) {
      return dataLoss(fmt::format("the stored digest of key {} is malformed", row.id));
    }
    entry.id = std::move(row.id);
    entry.principal = std::move(row.principal);
    entry.expires_ms = row.expires_ms;
    out.push_back(std::move(entry));
  }
  return out;
}

Status AccessStore::putRole(const Role& role) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("INSERT INTO rbac_roles (name, body) VALUES (?, ?)"
                                   " ON CONFLICT (name) DO UPDATE SET body = excluded.body"));
  s.bind(1, role.name).bind(2, toJson(role).dump());
  return s.run();
}

Status AccessStore::deleteRole(const std::string& name) {
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("DELETE FROM rbac_roles WHERE name = ?"));
  s.bind(1, name);
  return s.run();
}

StatusOr<std::vector<Role>> AccessStore::roles() {
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("SELECT body FROM rbac_roles ORDER BY name"));
  std::vector<Role> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      break;
    }
    DW_ASSIGN_OR_RETURN(Role role, roleFromJson(json::parse(s.text(0), nullptr, false)));
    out.push_back(std::move(role));
  }
  return out;
}

Status AccessStore::putBinding(const RoleBinding& binding) {
  DW_ASSIGN_OR_RETURN(Statement s,
                      db_->prepare("INSERT INTO rbac_bindings (name, body) VALUES (?, ?)"
                                   " ON CONFLICT (name) DO UPDATE SET body = excluded.body"));
  s.bind(1, binding.name).bind(2, toJson(binding).dump());
  return s.run();
}

Status AccessStore::deleteBinding(const std::string& name) {
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("DELETE FROM rbac_bindings WHERE name = ?"));
  s.bind(1, name);
  return s.run();
}

StatusOr<std::vector<RoleBinding>> AccessStore::bindings() {
  DW_ASSIGN_OR_RETURN(Statement s, db_->prepare("SELECT body FROM rbac_bindings ORDER BY name"));
  std::vector<RoleBinding> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      break;
    }
    DW_ASSIGN_OR_RETURN(RoleBinding binding,
                        bindingFromJson(json::parse(s.text(0), nullptr, false)));
    out.push_back(std::move(binding));
  }
  return out;
}

}  // namespace dw::security
