// Resources of the machine the gateway runs on (R1.3): CPU use and memory from /proc, and GPU
// utilisation and memory through NVML, loaded at run time (dlopen of libnvidia-ml.so.1), so a
// machine without a GPU simply has no GPU metrics rather than an error.
//
// Thread contract: a HostResources is used by one thread (the control thread).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace dw::observe {

struct GpuReading {
  int index = 0;
  double utilization_ratio = 0;
  double memory_used_bytes = 0;
  double memory_total_bytes = 0;
};

struct HostReading {
  double cpu_utilization_ratio = NAN;  // Over all cores since the previous reading.
  double memory_used_bytes = NAN;      // MemTotal - MemAvailable.
  double memory_total_bytes = NAN;
  double process_resident_bytes = NAN;
  std::vector<GpuReading> gpus;  // Empty without NVML.
};

class HostResources {
 public:
  HostResources();
  ~HostResources();

  HostReading read();
  bool hasNvml() const;

 private:
  class Nvml;
  std::unique_ptr<Nvml> nvml_;
  uint64_t last_busy_ = 0;
  uint64_t last_total_ = 0;
};

}  // namespace dw::observe
