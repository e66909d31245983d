// A second, remote copy of the audit chain (R8, R9): in a cluster each gateway's entries are also
// written to etcd before the operation they record is acknowledged, so losing a gateway and its
// disk loses no acknowledged entry (RPO = 0). The local SQLite log stays the chain of record;
// the mirror holds the same entries (their ECS lines, hashes included) under
// `<prefix>/audit/<instance>/<chain>/<seq>`, where <chain> is the first 16 hex digits of the
// chain's first entry hash, so a gateway whose disk was wiped starts a new chain beside the old
// one instead of colliding with it. Entries are created, never overwritten.
//
// Thread contract: AuditTrail serialises the calls (its mirror mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "security/audit_log.h"

namespace dw::security {

class AuditMirror {
 public:
  virtual ~AuditMirror() = default;
  // The highest seq the mirror holds for the chain that starts with `first_hash` (0: none).
  virtual StatusOr<int64_t> lastSeq(const std::string& first_hash) = 0;
  // Stores one entry of that chain; durable there when it returns ok. An entry already stored
  // with the same content is ok; a different one under the same seq is DATA_LOSS-like: refused.
  virtual Status put(const std::string& first_hash, const AuditEntry& entry) = 0;
};

struct EtcdAuditMirrorOptions {
  std::vector<std::string> endpoints;  // http://host:port of the members.
  std::string prefix;                  // The cluster's prefix, e.g. /deepwatch.
  std::string instance;                // This gateway's name in the cluster.
  Duration timeout = std::chrono::seconds(2);
};

std::unique_ptr<AuditMirror> makeEtcdAuditMirror(EtcdAuditMirrorOptions options);

}  // namespace dw::security
