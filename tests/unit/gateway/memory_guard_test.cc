#include "gateway/memory_guard.h"

#include <gtest/gtest.h>

#include "base/process_memory.h"

namespace dw::gateway {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

TEST(MemoryGuardTest, ShedsPastTheLimitAndResumesBelowNinetyPercent) {
  MemoryGuard guard(100 * kMiB);
  EXPECT_FALSE(guard.update(99 * kMiB));
  EXPECT_FALSE(guard.update(100 * kMiB));  // At the limit: still serving.
  EXPECT_TRUE(guard.update(101 * kMiB));
  // Hysteresis: between 90% and the limit the state holds, so a gateway hovering at its limit
  // does not flap once a second.
  EXPECT_TRUE(guard.update(95 * kMiB));
  EXPECT_TRUE(guard.update(90 * kMiB));
  EXPECT_FALSE(guard.update(89 * kMiB));
  EXPECT_FALSE(guard.update(95 * kMiB));
  EXPECT_EQ(guard.resumeBelow(), 90 * kMiB);
}

TEST(MemoryGuardTest, NoLimitOrNoReadingNeverSheds) {
  MemoryGuard off(0);
  EXPECT_FALSE(off.update(1ULL << 40));
  MemoryGuard guard(10 * kMiB);
  EXPECT_TRUE(guard.update(20 * kMiB));
  EXPECT_FALSE(guard.update(0));  // /proc unreadable: shedding on a guess would be an outage.
}

TEST(MemoryGuardTest, AutoIsNinetyPercentOfTheCgroupLimit) {
  EXPECT_EQ(effectiveMemoryLimit(kMemoryLimitAuto, 1000 * kMiB), 900 * kMiB);
  EXPECT_EQ(effectiveMemoryLimit(kMemoryLimitAuto, 0), 0u);  // Outside a limited cgroup: off.
  EXPECT_EQ(effectiveMemoryLimit(512 * kMiB, 1000 * kMiB), 512 * kMiB);
  EXPECT_EQ(effectiveMemoryLimit(0, 1000 * kMiB), 0u);
}

TEST(HeapReleasePacerTest, SlowReleasesBackOffAndCheapOnesComeBack) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  HeapReleasePacer pacer;
  HeapReleasePacer::Clock::time_point t{};
  t += seconds(100);
  EXPECT_TRUE(pacer.due(t));
  pacer.released(t, milliseconds(1));
  EXPECT_EQ(pacer.interval(), seconds(30));
  EXPECT_FALSE(pacer.due(t + seconds(29)));
  EXPECT_TRUE(pacer.due(t + seconds(30)));
  // A fragmented heap: each slow release doubles the wait, up to 8 minutes.
  for (int i = 0; i < 6; ++i) {
    t += pacer.interval();
    pacer.released(t, milliseconds(50));
  }
  EXPECT_EQ(pacer.interval(), std::chrono::minutes(8));
  EXPECT_FALSE(pacer.due(t + std::chrono::minutes(7)));
  // In between: the pace holds. Cheap again: back to every 30 s, halving.
  pacer.released(t, milliseconds(5));
  EXPECT_EQ(pacer.interval(), std::chrono::minutes(8));
  pacer.released(t, milliseconds(1));
  EXPECT_EQ(pacer.interval(), std::chrono::minutes(4));
  for (int i = 0; i < 5; ++i) {
    pacer.released(t, milliseconds(1));
  }
  EXPECT_EQ(pacer.interval(), seconds(30));
}

TEST(ProcessMemoryTest, ReadsResidentSetAndHeap) {
  EXPECT_GT(residentBytes(), 1 * kMiB);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator replaces glibc's, whose counts then read 0";
#endif
  // Held through a volatile pointer, so that the compiler cannot elide the allocation.
  char* volatile block = new char[4 * kMiB];
  block[0] = 1;
  const HeapUsage heap = heapUsage();
  EXPECT_GE(heap.in_use_bytes, 4 * kMiB);
  EXPECT_GE(heap.reserved_bytes, heap.in_use_bytes);
  delete[] block;
  EXPECT_LT(heapUsage().in_use_bytes, heap.in_use_bytes);
  releaseFreeHeap();  // Must not disturb what is still allocated.
  EXPECT_GT(residentBytes(), 0u);
}

}  // namespace
}  // namespace dw::gateway
