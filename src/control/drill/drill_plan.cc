#include "control/drill/drill_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace dw::control::drill {

const std::vector<FaultSpec>& allFaults() {
  static const std::vector<FaultSpec> kFaults = {
      {FaultKind::kReplicaCrash, "replica-crash", "Replica crash", kDetectBudgetSeconds, 30,
       "R5 L1: a replica that is down is restarted within 30 s",
       "control event l1_restart for its port, or the ReplicaDown alert",
       "the l1_restart event says the restarted replica is back in rotation"},
      {FaultKind::kPrimariesDown, "primaries-down", "All primaries down", kDetectBudgetSeconds, 60,
       "R5 L2: the standby takes over within 60 s",
       "control event l2_takeover, or the ReplicaDown or ErrorRatioHigh alert",
       "the l2_takeover event and client requests succeeding again"},
      {FaultKind::kReplicaLatency, "replica-latency", "Latency on a replica", kDetectBudgetSeconds,
       kMttrBudgetSeconds, "R10: recovery within 2 minutes",
       "the LatencyP99High alert, or the gateway ejecting the replica for latency "
       "(<ns>_upstream_ejections_total{reason=\"latency\"})",
       "after the detection, P99 of the client requests over 10 s (5 s short) at or under 0.8 s "
       "(R2.1) with the fault in place"},
      {FaultKind::kDegradedQuality, "degraded-quality", "Degraded quality of the stable version",
       kDetectBudgetSeconds, 120, "R5 L3: the stable version is rolled back within 120 s",
       "control event l3_rollback, or the LabelDrift or LowConfidenceRatioHigh alert",
       "the l3_rollback event (traffic on the last good version)"},
      {FaultKind::kInputDrift, "input-drift", "Input drift", kDetectBudgetSeconds,
       kMttrBudgetSeconds, "R10: recovery within 2 minutes (R2.2 detection)",
       "the InputDistributionShift alert",
       "the alert resolves once the input is back to its usual distribution"},
      {FaultKind::kSinkOutage, "sink-outage", "Alert sink outage", kDetectBudgetSeconds,
       kMttrBudgetSeconds, "R10: recovery within 2 minutes; no alert lost",
       "the gateway counts a failed delivery to the sink",
       "every alert that fired during the outage reaches the sink once it is back"},
  };
  return kFaults;
}

const FaultSpec& specOf(FaultKind kind) {
  for (const FaultSpec& spec : allFaults()) {
    if (spec.kind == kind) {
      return spec;
    }
  }
  return allFaults().front();  // Unreachable: every kind has a spec.
}

StatusOr<std::vector<FaultKind>> parseFaults(std::string_view list) {
  std::vector<std::string> known;
  for (const FaultSpec& spec : allFaults()) {
    known.emplace_back(spec.name);
  }
  if (list == "all") {
    std::vector<FaultKind> all;
    for (const FaultSpec& spec : allFaults()) {
      all.push_back(spec.kind);
    }
    return all;
  }
  std::set<FaultKind> chosen;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    std::string_view name = list.substr(start, comma - start);
    while (!name.empty() && name.front() == ' ') {
      name.remove_prefix(1);
    }
    while (!name.empty() && name.back() == ' ') {
      name.remove_suffix(1);
    }
    const auto it = std::find_if(allFaults().begin(), allFaults().end(),
                                 [&](const FaultSpec& spec) { return spec.name == name; });
    if (it == allFaults().end()) {
      return invalidArgument(
          fmt::format("unknown fault '{}' (known: all, {})", name, fmt::join(known, ", ")));
    }
    if (!chosen.insert(it->kind).second) {
      return invalidArgument(fmt::format("fault '{}' is listed twice", name));
    }
    start = comma + 1;
  }
  std::vector<FaultKind> ordered;
  for (const FaultSpec& spec : allFaults()) {
    if (chosen.count(spec.kind) != 0) {
      ordered.push_back(spec.kind);
    }
  }
  return ordered;
}

}  // namespace dw::control::drill
