// Alerting rules (R2): a metric (any series the gateway exports) with label matchers, tiers
// (warning, critical), a `for` duration, hysteresis, and optionally a dynamic band learned from
// the metric's own history (EWMA mean and deviation, or median and MAD, with k-sigma bands).
//
// Thread contract: values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "detect/alert.h"

namespace dw::detect {

struct Matcher {
  enum class Op { kEqual, kNotEqual, kRegex, kNotRegex };
  std::string label;
  Op op = Op::kEqual;
  std::string value;
};

// Parses "name", or "name{label=\"v\",other=~\"a|b\"}" as PromQL writes a selector.
StatusOr<std::pair<std::string, std::vector<Matcher>>> parseSelector(std::string_view text);

struct DynamicBand {
  enum class Method { kEwma, kMad };
  Method method = Method::kEwma;
  Duration window = std::chrono::hours(1);  // How much history the band learns from.
  double k_warning = 2;
  double k_critical = 3;
  uint32_t warmup = 30;  // Observations before the band can alert.
};

struct RuleConfig {
  std::string name;  // The alertname.
  std::string metric;
  std::vector<Matcher> matchers;
  bool below = false;  // Fire when the value drops under the thresholds instead of above.
  std::optional<double> warning;
  std::optional<double> critical;
  std::optional<DynamicBand> dynamic;
  Duration for_duration{0};  // Pending this long before firing.
  double hysteresis = 0.05;  // A firing alert clears only past its threshold by this share.
  // With min_samples, the series must have at least this many requests in its window
  // (<ns>_window_requests with the same model, version and window labels).
  uint32_t min_samples = 0;
  std::vector<std::string> group_by = {"alertname", "model"};
  LabelSet labels;       // Added to the alert's labels.
  LabelSet annotations;  // {{ $labels.x }} and {{ $value }} are filled in.
};

// The rules of the specification and the issues, on the gateway's metric names: latency P99
// (warning 0.5 s, critical 0.8 s, R2.1), input KL divergence (0.3, 0.5, R2.2), error ratio,
// abnormal-input ratio, label drift, low confidence, replica down, KV-cache (GPU memory)
// pressure and queue length.
std::vector<RuleConfig> defaultRules(const std::string& ns, const std::string& window);

}  // namespace dw::detect
