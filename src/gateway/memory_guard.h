// Load shedding on memory (R10; issue 9; SECURITY_RELIABILITY.md 7, overload): when the
// gateway's resident set passes limits.max_memory_bytes, new API requests are answered 503 with
// Retry-After, before their body is read, until it falls below 90% of the limit. The hysteresis
// keeps a gateway that hovers at its limit from flapping once a second.
//
// The guard only decides; the gateway's memory tick feeds it one reading a second, after handing
// free heap pages back to the kernel, so that it judges memory in use rather than what the
// allocator keeps cached.
//
// Thread contract: one thread (the control thread).
#pragma once

#include <chrono>
#include <cstdint>

namespace dw::gateway {

class MemoryGuard {
 public:
  // `limit_bytes` 0: never sheds.
  explicit MemoryGuard(uint64_t limit_bytes) : limit_(limit_bytes) {}

  // Takes one reading of the resident set; returns whether new requests are shed from now on.
  bool update(uint64_t resident_bytes);

  bool shedding() const { return shedding_; }
  uint64_t limit() const { return limit_; }
  // The resident set below which shedding stops.
  uint64_t resumeBelow() const { return limit_ / 10 * 9; }

 private:
  uint64_t limit_;
  bool shedding_ = false;
};

// When to hand free heap pages back to the kernel (malloc_trim). A release walks every arena's
// free chunks with that arena locked, so the io threads that allocate from it wait meanwhile:
// about 1 ms for the gateway's usual 15 MiB heap, but 10-120 ms for a fragmented heap of
// 40-360 MiB (measured with glibc 2.36). A release that took long therefore pushes the next one
// further away (up to 8 min), and cheap ones bring the pace back to every 30 s.
class HeapReleasePacer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kFastest = std::chrono::seconds(30);
  static constexpr Clock::duration kSlowest = std::chrono::minutes(8);

  bool due(Clock::time_point now) const { return now - last_ >= interval_; }
  // Records a release at `now` that took `took`.
  void released(Clock::time_point now, Clock::duration took);
  Clock::duration interval() const { return interval_; }

 private:
  Clock::time_point last_{};
  Clock::duration interval_ = kFastest;
};

// The limit that `configured` asks for: itself when positive; for kMemoryLimitAuto, 90% of the
// cgroup's memory limit (0, no limit, when the gateway runs outside one); 0 stays 0 (off).
inline constexpr uint64_t kMemoryLimitAuto = ~0ULL;
uint64_t effectiveMemoryLimit(uint64_t configured, uint64_t cgroup_limit);

}  // namespace dw::gateway
