// The result of a drill (R10) as data: the timeline of everything that happened, what each
// fault cost and how long it took to detect and to recover, and every budget with its measured
// value and verdict. evaluateBudgets() turns the measurements into verdicts; toJson() is the
// machine-readable report (renderDrillHtml() in drill_html.h draws the same data for people).
//
// Thread contract: plain values and pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/drill/drill_plan.h"
#include "control/drill/request_log.h"

namespace dw::control::drill {

struct TimelineEvent {
  double t = 0;       // Seconds since the drill began.
  std::string kind;   // stage, inject, detect, recover, restore, control, alert, sink, note
  std::string fault;  // The fault it belongs to (its name), or empty.
  std::string text;
};

struct FaultResult {
  FaultKind kind = FaultKind::kReplicaCrash;
  bool ran = false;
  std::string skip_reason;          // Why it did not run (when !ran).
  std::string target;               // What was hit: "fortune v1 replica 127.0.0.1:8101".
  double injected_at = 0;           // Drill seconds.
  double ended_at = 0;              // When the fault was removed and the fleet restored.
  std::optional<double> detect_s;   // From the injection; none: not detected while waited.
  std::optional<double> recover_s;  // From the injection; none: not recovered while waited.
  std::string detected_by;
  std::string recovered_by;
  double waited_s = 0;   // How long the drill waited for detection and recovery at most.
  WindowStats requests;  // Requests that started between the injection and the end.
  std::vector<std::string> notes;
};

struct BudgetCheck {
  std::string name;     // "replica-crash.recover", "mttr", "availability"
  std::string fault;    // Empty for the whole-drill checks.
  std::string measure;  // ran, detect, recover, mttr, availability
  std::optional<double> measured;
  double budget = 0;
  bool at_least = false;  // The measured value must be at least the budget (availability).
  std::string unit;       // "s" or "ratio"
  std::string requirement;
  bool passed = false;
  std::string note;
};

struct DrillReport {
  int64_t started_ms = 0;  // Wall clock.
  std::string gateway;     // The API URL the clients used.
  std::string admin;
  bool short_drill = false;
  double qps = 0;
  double ramp_s = 0;
  double hold_s = 0;
  double duration_s = 0;
  WindowStats requests;  // The whole drill.
  std::vector<TimelineEvent> timeline;
  std::vector<FaultResult> faults;
  std::vector<SecondStats> seconds;  // Per-second client view, for the chart.
  std::vector<BudgetCheck> checks;   // Filled by evaluateBudgets().
  bool passed = false;
};

// Compares every measurement with its budget (drill_plan.h) and sets report.checks and
// report.passed. Per fault that ran: detection and recovery, each within its budget (a missing
// measurement fails: it did not happen while the drill waited); per fault that did not run, a
// failed "ran" check (a drill that was asked for a fault and skipped it proves nothing about it);
// for the drill: the mean time to recovery over the faults that ran (any fault that never
// recovered fails it) and the availability the clients saw.
void evaluateBudgets(DrillReport& report);

nlohmann::ordered_json toJson(const DrillReport& report);

// " (503: 3, reset: 1)", or empty when nothing failed.
std::string errorSummary(const WindowStats& stats);

}  // namespace dw::control::drill
