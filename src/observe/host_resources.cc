#include "observe/host_resources.h"

#include <dlfcn.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "base/process_memory.h"

namespace dw::observe {

// The few NVML entry points used, resolved with dlsym. Their C signatures are NVML's ABI.
class HostResources::Nvml {
 public:
  struct Memory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
  };
  struct Utilization {
    unsigned int gpu;
    unsigned int memory;
  };
  using Device = void*;

  static std::unique_ptr<Nvml> load() {
    void* handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      return nullptr;
    }
    auto nvml = std::unique_ptr<Nvml>(new Nvml(handle));
    if (nvml->init_ == nullptr || nvml->count_ == nullptr || nvml->handle_ == nullptr ||
        nvml->utilization_ == nullptr || nvml->memory_ == nullptr || nvml->init_() != 0) {
      return nullptr;
    }
    return nvml;
  }

  ~Nvml() {
    if (shutdown_ != nullptr) {
      shutdown_();
    }
    dlclose(lib_);
  }

  std::vector<GpuReading> read() {
    std::vector<GpuReading> out;
    unsigned int count = 0;
    if (count_(&count) != 0) {
      return out;
    }
    for (unsigned int i = 0; i < count && i < 64; ++i) {
      Device device = nullptr;
      Utilization utilization{};
      Memory memory{};
      if (handle_(i, &device) != 0 || utilization_(device, &utilization) != 0 ||
          memory_(device, &memory) != 0) {
        continue;
      }
      out.push_back(GpuReading{static_cast<int>(i), utilization.gpu / 100.0,
                               static_cast<double>(memory.used),
                               static_cast<double>(memory.total)});
    }
    return out;
  }

 private:
  explicit Nvml(void* lib) : lib_(lib) {
    init_ = reinterpret_cast<int (*)()>(dlsym(lib, "nvmlInit_v2"));
    shutdown_ = reinterpret_cast<int (*)()>(dlsym(lib, "nvmlShutdown"));
    count_ = reinterpret_cast<int (*)(unsigned int*)>(dlsym(lib, "nvmlDeviceGetCount_v2"));
    handle_ = reinterpret_cast<int (*)(unsigned int, Device*)>(
        dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
    utilization_ = reinterpret_cast<int (*)(Device, Utilization*)>(
        dlsym(lib, "nvmlDeviceGetUtilizationRates"));
    memory_ = reinterpret_cast<int (*)(Device, Memory*)>(dlsym(lib, "nvmlDeviceGetMemoryInfo"));
  }

  void* lib_;
  int (*init_)() = nullptr;
  int (*shutdown_)() = nullptr;
  int (*count_)(unsigned int*) = nullptr;
  int (*handle_)(unsigned int, Device*) = nullptr;
  int (*utilization_)(Device, Utilization*) = nullptr;
  int (*memory_)(Device, Memory*) = nullptr;
};

HostResources::HostResources() : nvml_(Nvml::load()) {}
HostResources::~HostResources() = default;

bool HostResources::hasNvml() const { return nvml_ != nullptr; }

HostReading HostResources::read() {
  HostReading out;
  {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal &&
        cpu == "cpu") {
      const uint64_t busy = user + nice + system + irq + softirq + steal;
      const uint64_t total = busy + idle + iowait;
      if (last_total_ != 0 && total > last_total_) {
        out.cpu_utilization_ratio =
            static_cast<double>(busy - last_busy_) / static_cast<double>(total - last_total_);
      }
      last_busy_ = busy;
      last_total_ = total;
    }
  }
  {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    uint64_t value = 0;
    std::string unit;
    double total = NAN;
    double available = NAN;
    while (meminfo >> key >> value >> unit) {
      if (key == "MemTotal:") {
        total = static_cast<double>(value) * 1024;
      } else if (key == "MemAvailable:") {
        available = static_cast<double>(value) * 1024;
      }
    }
    out.memory_total_bytes = total;
    out.memory_used_bytes = total - available;
  }
  if (const uint64_t resident = residentBytes(); resident > 0) {
    out.process_resident_bytes = static_cast<double>(resident);
  }
  if (nvml_) {
    out.gpus = nvml_->read();
  }
  return out;
}

}  // namespace dw::observe
