// The security snapshot the workers authenticate and authorize against (R7): the keys (id ->
// digest and principal) and the RBAC roles and bindings. Built by the control thread from the
// configuration and the access store, published like the routing snapshot; immutable.
//
// Thread contract: immutable after construction; every method is thread-safe and allocation-free
// (a key is looked up by the id inside it, without copying).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "security/crypto.h"
#include "security/rbac.h"

namespace dw::security {

struct KeyEntry {
  std::string id;
  Digest digest{};
  Principal principal;
  int64_t expires_ms = 0;  // 0: never
};

class AccessPolicy {
 public:
  AccessPolicy(bool enabled, std::vector<KeyEntry> keys, Rbac rbac);

  // Off: every caller is allowed as the anonymous principal (local development only).
  bool enabled() const { return enabled_; }
  // The principal a presented key authenticates as, or nullptr for a malformed, unknown,
  // revoked or expired key. Constant-time in the key's secret.
  const Principal* authenticate(std::string_view key, int64_t now_ms) const;
  bool allowed(const Principal& who, const Permission& what) const {
    return !enabled_ || rbac_.allowed(who, what);
  }
  const Rbac& rbac() const { return rbac_; }
  size_t keyCount() const { return keys_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  bool enabled_;
  std::unordered_map<std::string, KeyEntry, Hash, std::equal_to<>> keys_;
  Rbac rbac_;
};

}  // namespace dw::security
