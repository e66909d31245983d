#include "control/drill/drill_report.h"

#include <fmt/format.h>

#include <cmath>

namespace dw::control::drill {

using json = nlohmann::ordered_json;

namespace {

BudgetCheck within(std::string name, const FaultSpec& spec, std::string measure,
                   std::optional<double> measured, double budget, std::string requirement,
                   double waited) {
  BudgetCheck check;
  check.name = std::move(name);
  check.fault = std::string(spec.name);
  check.measure = std::move(measure);
  check.measured = measured;
  check.budget = budget;
  check.unit = "s";
  check.requirement = std::move(requirement);
  check.passed = measured.has_value() && *measured <= budget;
  if (!measured) {
    check.note = fmt::format("did not happen within the {:.0f} s the drill waited", waited);
  }
  return check;
}

json optionalNumber(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

std::string isoTime(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", text, static_cast<int>(ms % 1000));
}

}  // namespace

std::string errorSummary(const WindowStats& stats) {
  std::string out;
  for (const auto& [why, count] : stats.errors) {
    out += fmt::format("{}{}: {}", out.empty() ? " (" : ", ", why, count);
  }
  return out.empty() ? out : out + ")";
}

void evaluateBudgets(DrillReport& report) {
  report.checks.clear();
  double recovered_sum = 0;
  int recovered = 0;
  int never = 0;
  for (const FaultResult& fault : report.faults) {
    const FaultSpec& spec = specOf(fault.kind);
    const std::string name(spec.name);
    if (!fault.ran) {
      BudgetCheck check;
      check.name = name + ".ran";
      check.fault = name;
      check.measure = "ran";
      check.requirement = "every fault asked for is injected";
      check.note = fault.skip_reason;
      report.checks.push_back(std::move(check));
      continue;
    }
    report.checks.push_back(
        within(name + ".detect", spec, "detect", fault.detect_s, spec.detect_budget_s,
               "detection within 30 s (SECURITY_RELIABILITY.md 8)", fault.waited_s));
    report.checks.push_back(within(name + ".recover", spec, "recover", fault.recover_s,
                                   spec.recover_budget_s, std::string(spec.requirement),
                                   fault.waited_s));
    if (fault.recover_s) {
      recovered_sum += *fault.recover_s;
      ++recovered;
    } else {
      ++never;
    }
  }
  BudgetCheck mttr;
  mttr.name = "mttr";
  mttr.measure = "mttr";
  mttr.budget = kMttrBudgetSeconds;
  mttr.unit = "s";
  mttr.requirement = "R10: mean time to recovery under 2 minutes";
  if (recovered > 0) {
    mttr.measured = recovered_sum / recovered;
  }
  mttr.passed = never == 0 && mttr.measured.has_value() && *mttr.measured < kMttrBudgetSeconds;
  if (never > 0) {
    mttr.note = fmt::format("{} fault(s) never recovered while the drill waited", never);
  } else if (recovered == 0) {
    mttr.note = "no fault ran";
  }
  report.checks.push_back(std::move(mttr));

  BudgetCheck availability;
  availability.name = "availability";
  availability.measure = "availability";
  availability.budget = kAvailabilityTarget;
  availability.at_least = true;
  availability.unit = "ratio";
  availability.requirement = "R10: availability 99.95% (2xx answers of all client requests)";
  if (report.requests.requests > 0) {
    availability.measured = report.requests.availability();
    availability.note = fmt::format("{} of {} requests failed{}", report.requests.failed,
                                    report.requests.requests, errorSummary(report.requests));
  } else {
    availability.note = "no request was sent";
  }
  availability.passed =
      availability.measured.has_value() && *availability.measured >= kAvailabilityTarget;
  report.checks.push_back(std::move(availability));

  report.passed = true;
  for (const BudgetCheck& check : report.checks) {
    report.passed = report.passed && check.passed;
  }
}

json toJson(const DrillReport& report) {
  json timeline = json::array();
  for (const TimelineEvent& e : report.timeline) {
    timeline.push_back({{"t", e.t}, {"kind", e.kind}, {"fault", e.fault}, {"text", e.text}});
  }
  json faults = json::array();
  for (const FaultResult& f : report.faults) {
    const FaultSpec& spec = specOf(f.kind);
    json fault = {{"name", spec.name},
                  {"title", spec.title},
                  {"ran", f.ran},
                  {"skip_reason", f.ran ? json(nullptr) : json(f.skip_reason)},
                  {"target", f.target},
                  {"injected_at", f.ran ? json(f.injected_at) : json(nullptr)},
                  {"ended_at", f.ran ? json(f.ended_at) : json(nullptr)},
                  {"detect_seconds", optionalNumber(f.detect_s)},
                  {"recover_seconds", optionalNumber(f.recover_s)},
                  {"detected_by", f.detected_by},
                  {"recovered_by", f.recovered_by},
                  {"detect_budget_seconds", spec.detect_budget_s},
                  {"recover_budget_seconds", spec.recover_budget_s},
                  {"detection_means", spec.detected_by},
                  {"recovery_means", spec.recovered_by},
                  {"requirement", spec.requirement},
                  {"waited_seconds", f.waited_s},
                  {"requests", f.requests.requests},
                  {"requests_failed", f.requests.failed},
                  {"errors", f.requests.errors},
                  {"availability", f.requests.availability()},
                  {"notes", f.notes}};
    faults.push_back(std::move(fault));
  }
  json checks = json::array();
  for (const BudgetCheck& c : report.checks) {
    checks.push_back({{"name", c.name},
                      {"fault", c.fault.empty() ? json(nullptr) : json(c.fault)},
                      {"measure", c.measure},
                      {"measured", optionalNumber(c.measured)},
                      {"budget", c.measure == "ran" ? json(nullptr) : json(c.budget)},
                      {"comparison", c.measure == "ran" ? "ran"
                                     : c.at_least       ? ">="
                                                        : "<="},
                      {"unit", c.unit},
                      {"requirement", c.requirement},
                      {"passed", c.passed},
                      {"note", c.note}});
  }
  json seconds = json::array();
  for (const SecondStats& s : report.seconds) {
    seconds.push_back({s.ok, s.failed, s.max_seconds});
  }
  return {{"kind", "deepwatch-drill"},
          {"version", 1},
          {"started_at", isoTime(report.started_ms)},
          {"gateway", report.gateway},
          {"admin", report.admin},
          {"short", report.short_drill},
          {"load",
           {{"qps", report.qps}, {"ramp_seconds", report.ramp_s}, {"hold_seconds", report.hold_s}}},
          {"duration_seconds", report.duration_s},
          {"requests", report.requests.requests},
          {"requests_failed", report.requests.failed},
          {"errors", report.requests.errors},
          {"availability", report.requests.availability()},
          {"passed", report.passed},
          {"checks", std::move(checks)},
          {"faults", std::move(faults)},
          {"timeline", std::move(timeline)},
          {"per_second", {{"columns", {"ok", "failed", "max_seconds"}}, {"rows", seconds}}}};
}

}  // namespace dw::control::drill
