#include "security/access_policy.h"

#include "security/api_keys.h"

namespace dw::security {

AccessPolicy::AccessPolicy(bool enabled, std::vector<KeyEntry> keys, Rbac rbac)
    : enabled_(enabled), rbac_(std::move(rbac)) {
  for (KeyEntry& key : keys) {
    std::string id = key.id;
    keys_.emplace(std::move(id), std::move(key));
  }
}

const Principal* AccessPolicy::authenticate(std::string_view key, int64_t now_ms) const {
  const auto id = keyId(key);
  if (!id) {
    return nullptr;
  }
  auto it = keys_.find(*id);
  if (it == keys_.end()) {
    return nullptr;
  }
  const Digest digest = sha256(key);
  if (!constantTimeEqual(asBytes(digest), asBytes(it->second.digest))) {
    return nullptr;
  }
  if (it->second.expires_ms != 0 && now_ms >= it->second.expires_ms) {
    return nullptr;
  }
  return &it->second.principal;
}

}  // namespace dw::security
