#include "base/process_memory.h"

#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace dw {

uint64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(statm >> size >> resident)) {
    return 0;
  }
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

HeapUsage heapUsage() {
  const struct mallinfo2 info = mallinfo2();
  return {.in_use_bytes = info.uordblks + info.hblkhd, .reserved_bytes = info.arena + info.hblkhd};
}

void releaseFreeHeap() { malloc_trim(0); }

namespace {

// A limit file's value; 0 for "max", for the v1 "unlimited" sentinel (close to 2^63) and when
// the file is absent.
uint64_t readLimit(const std::string& path) {
  std::ifstream file(path);
  std::string text;
  if (!(file >> text) || text == "max") {
    return 0;
  }
  try {
    const uint64_t value = std::stoull(text);
    return value >= (1ULL << 62) ? 0 : value;
  } catch (...) {
    return 0;
  }
}

}  // namespace

uint64_t cgroupMemoryLimit() {
  // /proc/self/cgroup: "0::/path" on cgroup v2, "N:memory:/path" among others on v1.
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) {
      continue;
    }
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    // Inside a cgroup namespace (a container) the path names the host's hierarchy while
    // /sys/fs/cgroup shows the container's own cgroup at its root: both are tried.
    if (controllers.empty()) {
      for (const std::string& file :
           {"/sys/fs/cgroup" + path + "/memory.max", std::string("/sys/fs/cgroup/memory.max")}) {
        if (uint64_t limit = readLimit(file); limit > 0) {
          return limit;
        }
      }
    } else if (controllers.find("memory") != std::string::npos) {
      for (const std::string& file : {"/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes",
                                      std::string("/sys/fs/cgroup/memory/memory.limit_in_bytes")}) {
        if (uint64_t limit = readLimit(file); limit > 0) {
          return limit;
        }
      }
    }
  }
  return 0;
}

}  // namespace dw
