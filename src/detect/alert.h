// Alerts as the detector and the notifier see them: labels that identify an alert, its
// severity tiers (R2.3: CRITICAL above the critical threshold, else WARNING above the warning
// one), its lifecycle state and times.
//
// Thread contract: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace dw::detect {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using LabelSet = std::map<std::string, std::string>;

enum class Severity { kNone, kWarning, kCritical };
std::string_view severityName(Severity severity);

enum class AlertState { kInactive, kPending, kFiring, kResolved };
std::string_view stateName(AlertState state);

struct Alert {
  std::string rule;
  LabelSet labels;  // alertname, severity, the series' labels and the rule's own labels.
  LabelSet annotations;
  AlertState state = AlertState::kInactive;
  Severity severity = Severity::kNone;
  double value = 0;
  TimePoint active_since{};  // When it started firing.
  TimePoint resolved_at{};   // When it resolved (kResolved).
  uint64_t fingerprint = 0;  // Of `labels`.
};

// A stable hash of a label set (names and values in order), as Alertmanager fingerprints.
uint64_t fingerprint(const LabelSet& labels);

// RFC 3339 in UTC with seconds ("2026-08-22T10:15:00Z"), as Alertmanager expects.
std::string rfc3339(TimePoint t);

}  // namespace dw::detect
