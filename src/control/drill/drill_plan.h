// The faults of the full-chain drill (`deepwatch drill`, R10) and the budget each is held to.
// The budgets come from the requirements: R5 (a replica restarted within 30 s, the standby
// taking over within 60 s, a rollback within 120 s) and R10 (mean time to recovery under two
// minutes, availability 99.95%); detection within 30 s is SECURITY_RELIABILITY.md section 8
// (2). They are constants here so that a report names the number it was held to.
//
// Thread contract: pure data and functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dw::control::drill {

enum class FaultKind {
  kReplicaCrash,     // One replica of the stable version dies (SIGKILL through /fault).
  kPrimariesDown,    // Every primary replica's engine fails: the standby must take over.
  kReplicaLatency,   // One replica of the stable version answers slowly.
  kDegradedQuality,  // The stable version's accuracy drops: it must be rolled back.
  kInputDrift,       // The clients' input changes distribution: the drift alert must fire.
  kSinkOutage,       // The alert sink is unreachable: alerts wait and arrive when it is back.
};

struct FaultSpec {
  FaultKind kind;
  std::string_view name;          // On the command line and in the report: "replica-crash".
  std::string_view title;         // For people.
  double detect_budget_s;         // From the injection to the first signal that names it.
  double recover_budget_s;        // From the injection to recovered.
  std::string_view requirement;   // Where the recovery budget comes from.
  std::string_view detected_by;   // What counts as detection.
  std::string_view recovered_by;  // What counts as recovery.
};

inline constexpr double kDetectBudgetSeconds = 30;     // SECURITY_RELIABILITY.md 8 (2).
inline constexpr double kMttrBudgetSeconds = 120;      // R10: MTTR under 2 minutes.
inline constexpr double kAvailabilityTarget = 0.9995;  // R10: 99.95%.

// Every fault, in the order a drill injects them.
const std::vector<FaultSpec>& allFaults();
const FaultSpec& specOf(FaultKind kind);

// "all", or names separated by commas ("replica-crash,sink-outage"). Unknown names and
// duplicates are errors that list the known names. The result keeps the drill's order.
StatusOr<std::vector<FaultKind>> parseFaults(std::string_view list);

}  // namespace dw::control::drill
