#include "gateway/audit_trail.h"

#include <cmath>

#include "base/log.h"

namespace dw::gateway {

namespace {

int64_t scaled(double value, double factor) {
  return std::isnan(value) ? -1 : static_cast<int64_t>(std::llround(value * factor));
}

// "regressed" when P99 rose by more than 20% or the error rate by more than a point,
// "improved" for the reverse, "neutral" otherwise; "unknown" without traffic on either side.
std::string verdict(const std::vector<security::ImpactMetric>& metrics) {
  int64_t p99_before = -1, p99_after = -1, err_before = -1, err_after = -1;
  for (const auto& m : metrics) {
    if (m.name == "p99_latency_us") {
      p99_before = m.before;
      p99_after = m.after;
    } else if (m.name == "error_rate_ppm") {
      err_before = m.before;
      err_after = m.after;
    }
  }
  if (p99_before < 0 || p99_after < 0) {
    return "unknown";
  }
  if (p99_after > p99_before * 6 / 5 || (err_after - err_before) > 10000) {
    return "regressed";
  }
  if (p99_before > p99_after * 6 / 5 || (err_before - err_after) > 10000) {
    return "improved";
  }
  return "neutral";
}

}  // namespace

AuditTrail::AuditTrail(std::unique_ptr<security::AuditLog> log, Duration impact_window,
                       Snapshot observed)
    : log_(std::move(log)), impact_window_(impact_window), observed_(std::move(observed)) {
  auto secrets = security::PiiScanner::create({{security::PiiType::kSecret}});
  if (secrets.ok()) {
    secrets_ = std::move(secrets).value();
  }
}

std::vector<security::ImpactMetric> AuditTrail::measure(const std::string& model) const {
  // Integers with the unit in the name: the canonical bytes never depend on float printing.
  std::vector<security::ImpactMetric> out;
  auto snapshot = observed_();
  if (snapshot == nullptr) {
    return out;
  }
  for (const observe::ModelStats& m : snapshot->models) {
    if (m.model != model || m.windows.empty()) {
      continue;
    }
    const observe::WindowStats& w = m.windows[0];
    out.push_back({"requests", static_cast<int64_t>(w.requests), 0});
    out.push_back({"qps_milli", scaled(w.qps, 1e3), 0});
    out.push_back({"p50_latency_us", scaled(w.p50, 1e6), 0});
    out.push_back({"p99_latency_us", scaled(w.p99, 1e6), 0});
    out.push_back({"error_rate_ppm", scaled(w.error_ratio, 1e6), 0});
  }
  return out;
}

StatusOr<security::AuditEntry> AuditTrail::record(const security::AuditRecord& record,
                                                  const std::string& impact_model) {
  auto entry = [&] {
    if (secrets_ != nullptr &&
        (secrets_->containsAny(record.reason) || secrets_->containsAny(record.target))) {
      security::AuditRecord masked = record;
      masked.reason = secrets_->redact(record.reason, nullptr);
      masked.target = secrets_->redact(record.target, nullptr);
      return log_->append(masked);
    }
    return log_->append(record);
  }();
  if (!entry.ok()) {
    ++failures_;
    DW_LOG_ERROR("audit: cannot append {} on {}: {}", record.operation, record.target,
                 entry.status().message());
    return entry.status();
  }
  if (mirror_ != nullptr) {
    if (Status mirrored = mirrorThrough(*entry); !mirrored.ok()) {
      ++failures_;
      DW_LOG_ERROR("audit: entry {} ({} on {}) is not in the cluster's copy: {}", entry->seq,
                   record.operation, record.target, mirrored.message());
      return mirrored;
    }
  }
  if (!impact_model.empty() && record.outcome == security::AuditOutcome::kSuccess) {
    Pending p{entry->audit_id,
              impact_model,
              record.operation,
              record.target,
              std::chrono::steady_clock::now() + impact_window_,
              measure(impact_model)};
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(p));
  }
  return entry;
}

Status AuditTrail::mirrorThrough(const security::AuditEntry& entry) {
  std::lock_guard lock(mirror_mutex_);
  if (first_hash_.empty()) {
    security::AuditFilter first;
    first.limit = 1;
    DW_ASSIGN_OR_RETURN(std::vector<security::AuditEntry> head, log_->list(first));
    if (head.empty()) {
      return internalError("the audit log lists no first entry");
    }
    first_hash_ = head.front().entry_hash;
  }
  if (mirrored_ < 0) {
    DW_ASSIGN_OR_RETURN(mirrored_, mirror_->lastSeq(first_hash_));
  }
  if (entry.seq <= mirrored_) {
    return okStatus();  // Sent with a later entry's catch-up.
  }
  if (entry.seq > mirrored_ + 1) {
    // Entries appended while the mirror could not be reached, or by another thread now.
    security::AuditFilter missing;
    missing.after_seq = mirrored_;
    DW_ASSIGN_OR_RETURN(std::vector<security::AuditEntry> entries, log_->list(missing));
    for (const security::AuditEntry& e : entries) {
      if (e.seq >= entry.seq) {
        break;
      }
      DW_RETURN_IF_ERROR(mirror_->put(first_hash_, e));
      mirrored_ = e.seq;
    }
  }
  DW_RETURN_IF_ERROR(mirror_->put(first_hash_, entry));
  mirrored_ = entry.seq;
  return okStatus();
}

void AuditTrail::tick() {
  std::vector<Pending> due;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->due <= now) {
        due.push_back(std::move(*it));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Pending& p : due) {
    security::ImpactAssessment impact;
    impact.window_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(impact_window_).count();
    impact.metrics = std::move(p.before);
    for (const security::ImpactMetric& after : measure(p.model)) {
      bool found = false;
      for (security::ImpactMetric& m : impact.metrics) {
        if (m.name == after.name) {
          m.after = after.before;
          found = true;
        }
      }
      if (!found) {
        impact.metrics.push_back({after.name, -1, after.before});
      }
    }
    impact.verdict = verdict(impact.metrics);
    security::AuditRecord r;
    r.actor = "deepwatch";
    r.actor_kind = security::ActorKind::kSystem;
    r.operation = "impact";
    r.target = p.target;
    r.reason = "performance impact of " + p.operation;
    r.refers_to = p.audit_id;
    r.impact = std::move(impact);
    (void)record(r);
  }
}

}  // namespace dw::gateway
