// A baseline: the distributions of a model's inputs and outputs over a reference window, which
// drift is measured against (R1.1, R1.2, R2.2). Captured from a window on request (admin API,
// `deepwatch baseline capture`), stored per model and version, exported and imported as JSON.
//
// Thread contract: values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace dw::observe {

struct Baseline {
  std::string model;
  std::string version = "all";  // "all": every version of the model together.
  int64_t captured_at = 0;      // Unix seconds.
  std::string window;           // The window it was captured from, e.g. "5m".
  uint64_t requests = 0;
  // Histograms by feature name: "script", "vocabulary", "prompt_chars", "prompt_tokens",
  // "messages" (inputs); "label", "finish_reason", "confidence", "output_tokens" (outputs).
  std::map<std::string, std::vector<double>> histograms;
  std::vector<std::string> labels;  // The label names, in the order of histograms["label"].

  std::string toJson() const;
  static StatusOr<Baseline> fromJson(std::string_view text);
};

}  // namespace dw::observe
