// Evaluates alerting rules against the series the gateway exports, once per tick, with time
// passed in (tests run on simulated time). Each matching series is an alert instance that moves
// inactive -> pending (above a threshold, `for` not yet elapsed) -> firing -> resolved, with
// hysteresis so that a value dancing on a threshold does not flap. An instance has one severity
// at a time, so a critical alert inhibits the warning of the same rule and labels (R2.3).
//
// Thread contract: control thread only.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "detect/rule.h"
#include "observe/prom_text.h"

namespace re2 {
class RE2;
}

namespace dw::detect {

// A change the evaluator made: an alert started firing, changed severity or resolved.
struct AlertEvent {
  enum class Kind { kFired, kEscalated, kDeescalated, kResolved };
  Kind kind;
  Alert alert;  // As it is after the change.
  Severity previous = Severity::kNone;
};
std::string_view eventKindName(AlertEvent::Kind kind);

class Evaluator {
 public:
  // `ns` names the companion series for min_samples (<ns>_window_requests).
  static StatusOr<std::unique_ptr<Evaluator>> create(std::vector<RuleConfig> rules, std::string ns,
                                                     Duration tick);
  ~Evaluator();

  // Evaluates every rule on `samples` at `now`; returns what changed.
  std::vector<AlertEvent> evaluate(const std::vector<observe::PromSample>& samples, TimePoint now);

  // Firing alerts, and those resolved at the last evaluation.
  std::vector<Alert> alerts() const;
  const std::vector<RuleConfig>& rules() const { return rules_; }

 private:
  struct Instance;
  struct CompiledMatcher;

  Evaluator() = default;
  bool matches(size_t rule, const observe::PromSample& sample) const;

  std::vector<RuleConfig> rules_;
  std::vector<std::vector<CompiledMatcher>> matchers_;
  std::string ns_;
  Duration tick_{};
  std::map<std::pair<size_t, uint64_t>, std::unique_ptr<Instance>> instances_;
};

}  // namespace dw::detect
