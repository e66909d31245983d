#include "gateway/memory_guard.h"

#include <algorithm>

namespace dw::gateway {

bool MemoryGuard::update(uint64_t resident_bytes) {
  if (limit_ == 0 || resident_bytes == 0) {
    shedding_ = false;  // No limit, or /proc could not be read: never shed on a guess.
  } else if (!shedding_ && resident_bytes > limit_) {
    shedding_ = true;
  } else if (shedding_ && resident_bytes < resumeBelow()) {
    shedding_ = false;
  }
  return shedding_;
}

void HeapReleasePacer::released(Clock::time_point now, Clock::duration took) {
  last_ = now;
  if (took > std::chrono::milliseconds(10)) {
    interval_ = std::min<Clock::duration>(interval_ * 2, kSlowest);
  } else if (took < std::chrono::milliseconds(2)) {
    interval_ = std::max<Clock::duration>(interval_ / 2, kFastest);
  }
}

uint64_t effectiveMemoryLimit(uint64_t configured, uint64_t cgroup_limit) {
  if (configured != kMemoryLimitAuto) {
    return configured;
  }
  // Kubernetes' OOM killer acts at the cgroup limit; shedding at 90% leaves room for the requests
  // already admitted to finish.
  return cgroup_limit / 10 * 9;
}

}  // namespace dw::gateway
