// Configuration of what the gateway observes (the `observe:` section; docs/configuration.md).
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "observe/input_scanner.h"

namespace dw::observe {

enum class LabelSource { kContent, kFinishReason, kJsonField, kRegex };

// Where an output's label comes from, for the label drift index (R1.2).
struct LabelConfig {
  LabelSource source = LabelSource::kContent;
  std::string field;                // kJsonField: a top-level field of the content parsed as JSON.
  std::string regex;                // kRegex: the first capture group (or the whole match).
  std::vector<std::string> values;  // The tracked labels; anything else is "other".
};

struct ObserveConfig {
  bool enabled = true;
  std::string ns = "deepseek";  // Metric name prefix (R1.4).
  // R9: one tick per second in production, per minute in the development profile.
  Duration granularity = std::chrono::seconds(1);
  std::vector<Duration> windows = {std::chrono::minutes(1), std::chrono::minutes(5),
                                   std::chrono::hours(1)};
  Duration drift_window = std::chrono::minutes(1);  // One of `windows`.
  uint32_t min_samples = 20;    // Fewer requests in a window: no drift or ratio is reported.
  double smoothing = 0.5;       // Pseudo-count added to every bin before KL, JS and PSI.
  double low_confidence = 0.5;  // Mean token probability below this: a low-confidence answer.
  InputLimits input;
  LabelConfig labels;
  bool scrape_replicas = true;  // Read each replica's /metrics into deepseek_resource_*.
  Duration scrape_interval = std::chrono::seconds(5);
  // Answers each API worker remembers for POST /v1/feedback (8 bytes each); fixed at start.
  uint32_t feedback_memory = 1u << 18;
};

}  // namespace dw::observe
