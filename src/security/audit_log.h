// The audit log (R8): an append-only, hash-chained record of every model and security operation
// (deploy, rollback, tune, key and role changes...), kept in its own SQLite file and mirrored as
// Elastic Common Schema NDJSON for Filebeat. docs/design/audit.md explains the design.
//
// Each entry is hashed as an RFC 6962 leaf, leaf_hash = SHA-256(0x00 || canonical bytes), where
// the canonical bytes include the entry's seq and the previous entry hash, and the entries form a
// chain: entry_hash_n = SHA-256(0x01 || entry_hash_{n-1} || leaf_hash_n), entry_hash_0 = 32 zero
// bytes. Because the chain alone cannot show that its newest entries were cut, the newest
// (seq, entry_hash) is also written to an anchor file next to the database, `<path>.head`.
//
// Durability: append() returns only after the entry is committed with synchronous=FULL and the
// anchor is renamed into place; when it returns an error the caller must refuse the operation
// (STYLE.md: the audit log never sheds).
//
// Thread contract: an AuditLog is thread-safe; every method takes one mutex (appends are rare:
// admin handlers and the control thread). One process writes a given log at a time (a lock file
// enforces it); readers (verify, list, export) may open it alongside with `read_only`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "security/crypto.h"

namespace dw::store {
class Database;
}

namespace dw::security {

enum class ActorKind { kPerson, kController, kSystem };
enum class RbacDecision { kAllow, kDeny };
enum class AuditOutcome { kSuccess, kFailure, kDenied };

// "person", "controller", "system"; "allow", "deny"; "success", "failure", "denied".
std::string_view actorKindName(ActorKind kind);
std::string_view rbacDecisionName(RbacDecision decision);
std::string_view auditOutcomeName(AuditOutcome outcome);
std::optional<ActorKind> parseActorKind(std::string_view name);
std::optional<RbacDecision> parseRbacDecision(std::string_view name);
std::optional<AuditOutcome> parseAuditOutcome(std::string_view name);

// One key metric of an impact assessment. Values are integers with the unit in the name
// (p99_latency_us, error_rate_ppm, tokens_per_s_milli) so the canonical bytes never depend on
// how a float is printed.
struct ImpactMetric {
  std::string name;
  int64_t before = 0;
  int64_t after = 0;
};

// The performance impact of an operation: key metrics over `window_ms` before the operation and
// the same length after it, and a verdict ("improved", "neutral", "regressed"...).
struct ImpactAssessment {
  int64_t window_ms = 0;
  std::vector<ImpactMetric> metrics;
  std::string verdict;
};

// What the caller records. Operation names are lowercase identifiers: deploy, rollback, promote,
// pause, resume, abort, weights, scale, tune, key_create, key_revoke, role_bind, role_unbind,
// config_reload, impact...
struct AuditRecord {
  std::string actor;
  ActorKind actor_kind = ActorKind::kPerson;
  std::string operation;
  std::string target;  // model/version, key id, role binding...
  std::string version_before;
  std::string version_after;
  std::string reason;
  RbacDecision rbac_decision = RbacDecision::kAllow;
  std::string rbac_reason;
  AuditOutcome outcome = AuditOutcome::kSuccess;
  std::string source_ip;                   // Empty or an IPv4/IPv6 address.
  std::string details_json = "{}";         // A JSON object; numbers must be integers.
  std::string refers_to;                   // For `impact`: the audit_id of the operation assessed.
  std::optional<ImpactAssessment> impact;  // Required for `impact`, refused otherwise.
};

// A committed entry: the record plus what the log assigned. Hashes are lowercase hex.
struct AuditEntry {
  AuditRecord record;
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string time_iso;  // ISO-8601 UTC with microseconds, "2026-08-22T10:15:00.123456Z".
  std::string audit_id;  // 16 bytes from the CSPRNG, hex.
  std::string prev_hash;
  std::string leaf_hash;
  std::string entry_hash;
};

// Filters of list() and export; every set field must match.
struct AuditFilter {
  std::optional<int64_t> from_ms;  // time_ms >= from_ms
  std::optional<int64_t> to_ms;    // time_ms < to_ms
  std::string actor;
  std::string operation;
  std::string target;
  std::optional<AuditOutcome> outcome;
  int64_t after_seq = 0;  // seq > after_seq
  int64_t limit = 0;      // 0: no limit. Entries come in seq order.
};

// What verify() found. `kind` is kNone when the log is intact.
enum class TamperKind {
  kNone,
  kChanged,    // An entry's content or hash columns no longer match its hashes.
  kDeleted,    // A gap in seq: entry bad_seq is missing.
  kReordered,  // Entry bad_seq links to an entry other than its predecessor.
  kTruncated,  // The anchor names more entries than the database holds.
  kAnchor,     // The anchor is missing, unreadable, or disagrees with the entry it names.
};
std::string_view tamperKindName(TamperKind kind);

struct VerifyResult {
  bool ok() const { return kind == TamperKind::kNone; }
  TamperKind kind = TamperKind::kNone;
  int64_t bad_seq = 0;  // The first bad entry (0 when none or unknown).
  std::string detail;
  int64_t count = 0;        // Entries checked (those before bad_seq when not ok).
  std::string head_hash;    // entry_hash of the newest entry checked (zeros when none).
  std::string merkle_root;  // RFC 6962 tree head over the leaf hashes checked.
  int64_t anchor_seq = 0;   // What the anchor said (0 when absent).
};

// The RFC 6962 primitives: SHA-256(0x00 || data), and the Merkle tree head over leaf hashes
// (SHA-256 of the empty string for no leaves).
Digest leafHash(std::string_view data);
Digest merkleTreeHead(const std::vector<Digest>& leaf_hashes);

// The canonical bytes that an entry's leaf hash covers: a JSON object with sorted keys, no
// whitespace, integers only (see docs/design/audit.md for the field list). Fails when the
// stored details or impact are not valid JSON (a changed entry).
StatusOr<std::string> canonicalBytes(const AuditEntry& entry);

// ISO-8601 UTC with microseconds; and a parser for "2026-08-22", "2026-08-22T10:15:00Z",
// "2026-08-22T10:15:00.123Z" (fraction up to 6 digits, 'Z' or +hh:mm offsets), into ms.
std::string formatIsoMicros(int64_t unix_us);
StatusOr<int64_t> parseIsoMillis(std::string_view text);

class AuditLog {
 public:
  struct Options {
    std::string path;          // The SQLite file; the anchor is `<path>.head`.
    std::string ndjson_path;   // The live ECS NDJSON file; empty for none.
    bool read_only = false;    // For verify/list/export: no lock, no anchor or NDJSON writes.
    bool check_anchor = true;  // verify() compares against `<path>.head`.
    std::function<int64_t()> now_us;  // Unix microseconds; the system clock when empty.
  };

  // Opens (creating unless read_only) the log. A writer takes `<path>.lock`, checks the
  // database against the anchor (fails with DATA_LOSS when entries the anchor names are gone or
  // differ), moves the anchor forward when a crash left it one commit behind, and appends to the
  // NDJSON file the entries a crash kept from it.
  static StatusOr<std::unique_ptr<AuditLog>> open(Options options);
  ~AuditLog();

  // Validates, appends and commits one entry and returns it. An error means the entry is not
  // acknowledged: refuse the operation. Errors after the commit (anchor or NDJSON write) leave
  // the log failed: every later append fails until it is reopened (fail closed).
  StatusOr<AuditEntry> append(const AuditRecord& record);

  // Recomputes the chain from the first entry and compares it with the anchor.
  StatusOr<VerifyResult> verify();

  StatusOr<std::vector<AuditEntry>> list(const AuditFilter& filter);

  // The entries matching `filter` as ECS NDJSON lines, each ending with '\n'.
  StatusOr<std::string> exportNdjson(const AuditFilter& filter);

  const std::string& path() const { return options_.path; }

 private:
  explicit AuditLog(Options options);
  Status openLocked();
  Status reconcileNdjsonLocked(int64_t head_seq);
  Status writeAnchorLocked(int64_t seq, const std::string& entry_hash);
  Status appendNdjsonLocked(const AuditEntry& entry);
  Status checkFileLocked();
  StatusOr<AuditEntry> insertLocked(const AuditRecord& record);

  const Options options_;
  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;  // Guarded by mutex_.
  int lock_fd_ = -1;
  int ndjson_fd_ = -1;     // Guarded by mutex_.
  uint64_t db_inode_ = 0;  // The file opened, to notice it being removed or replaced.
  uint64_t db_device_ = 0;
  Status failed_;  // Sticky error after a half-finished append; guarded by mutex_.
};

}  // namespace dw::security
