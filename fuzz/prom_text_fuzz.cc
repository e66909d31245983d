// Fuzzes the Prometheus text parser that reads replicas' /metrics (R1.3, R10): a replica is not
// trusted input (observe/prom_text.h), so any bytes must parse to bounded samples, malformed
// lines skipped, and map to engine resources without a crash.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "observe/prom_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto samples = dw::observe::parsePrometheusText(text, 1000);
  DW_FUZZ_CHECK(samples.size() <= 1000);
  for (const auto& sample : samples) {
    DW_FUZZ_CHECK(!sample.name.empty());
    DW_FUZZ_CHECK(sample.labels.size() <= 64);
  }
  const auto resources = dw::observe::mapEngineMetrics(samples);
  DW_FUZZ_CHECK(std::isnan(resources.kv_cache_usage_ratio) ||
                std::isfinite(resources.kv_cache_usage_ratio));
  // A small bound on the samples returned is honoured too.
  DW_FUZZ_CHECK(dw::observe::parsePrometheusText(text, 2).size() <= 2);
  return 0;
}
