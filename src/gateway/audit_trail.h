// The gateway's side of the audit log (R8): every operation, by a person through the admin API or
// by the controller on its own, becomes an entry of the hash-chained log; an operation on a model
// also gets its performance impact assessment, appended as an `impact` entry once the window
// after it has closed (key metrics over the observe window before the operation and the same
// window `impact_window` later).
//
// Admin operations follow Vault's rule: a `request` entry is made durable before the operation
// runs (if it cannot be written the operation is refused), and a `response` entry records the
// outcome and the version after.
//
// Thread contract: record() from any thread (the AuditLog serialises appends); tick() on the
// control thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "observe/aggregator.h"
#include "security/audit_log.h"
#include "security/audit_mirror.h"
#include "security/pii_scanner.h"

namespace dw::gateway {

class AuditTrail {
 public:
  using Snapshot = std::function<std::shared_ptr<const observe::MetricsSnapshot>()>;
  AuditTrail(std::unique_ptr<security::AuditLog> log, Duration impact_window, Snapshot observed);

  // Appends the record, with secrets in its free text (a key pasted into a reason) masked;
  // when `impact_model` is set, schedules its impact assessment.
  StatusOr<security::AuditEntry> record(const security::AuditRecord& record,
                                        const std::string& impact_model = "");
  // Appends the impact entries whose window has closed. Control thread.
  void tick();

  security::AuditLog& log() { return *log_; }
  // A remote copy of the chain (a cluster's etcd, R9): from now on every entry is stored there
  // too before record() returns, entries the mirror lacks first; when it cannot be, record()
  // fails and the operation is refused, as when the local append fails. Set before the gateway
  // serves.
  void setMirror(std::unique_ptr<security::AuditMirror> mirror) { mirror_ = std::move(mirror); }
  uint64_t failures() const { return failures_.load(); }

 private:
  struct Pending {
    std::string audit_id;
    std::string model;
    std::string operation;
    std::string target;
    std::chrono::steady_clock::time_point due;
    std::vector<security::ImpactMetric> before;
  };
  std::vector<security::ImpactMetric> measure(const std::string& model) const;
  Status mirrorThrough(const security::AuditEntry& entry);

  std::unique_ptr<security::AuditLog> log_;
  // Secrets only: operators' free text is kept, keys and tokens in it are not (catalog 22).
  std::shared_ptr<const security::PiiScanner> secrets_;
  Duration impact_window_;
  Snapshot observed_;
  std::mutex mutex_;
  std::vector<Pending> pending_;  // Guarded by mutex_.
  std::atomic<uint64_t> failures_{0};
  std::unique_ptr<security::AuditMirror> mirror_;
  std::mutex mirror_mutex_;  // Serialises the mirror's writes; guards what follows.
  std::string first_hash_;   // The chain's first entry hash: names the chain in the mirror.
  int64_t mirrored_ = -1;    // The highest seq the mirror holds; -1: not asked yet.
};

}  // namespace dw::gateway
