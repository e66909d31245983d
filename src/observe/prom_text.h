// A parser for the Prometheus text exposition format, for reading replicas' /metrics (vLLM,
// SGLang, llama.cpp, DCGM exporter) into deepseek_resource_* (R1.3). Replicas are not trusted
// input: malformed lines are skipped, never fatal, and sizes are bounded.
//
// Thread contract: pure functions.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dw::observe {

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// Parses text-format samples (comments and malformed lines are skipped). At most `max_samples`
// are returned.
std::vector<PromSample> parsePrometheusText(std::string_view text, size_t max_samples = 100000);

// What a replica's engine reports about its load, mapped from the known engines' names. NaN
// where the engine reports nothing.
struct EngineResources {
  double queue_length = NAN;  // Requests waiting.
  double running_requests = NAN;
  double kv_cache_usage_ratio = NAN;   // 0..1.
  double gpu_utilization_ratio = NAN;  // 0..1 (DCGM exporter).
  double gpu_memory_used_bytes = NAN;  // (DCGM exporter.)
};

EngineResources mapEngineMetrics(const std::vector<PromSample>& samples);

}  // namespace dw::observe
