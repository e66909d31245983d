// The process's own memory: its resident set (/proc/self/statm), glibc malloc's view of the heap
// (mallinfo2), the cgroup's memory limit, and a way to hand freed heap pages back to the kernel
// (malloc_trim). The gateway's memory guard and its /metrics read them (R10, issue 9).
//
// Thread contract: any thread; heapUsage() and releaseFreeHeap() take every malloc arena's lock
// in turn, so they belong on the control thread's tick, never on an io thread's hot path.
#pragma once

#include <cstdint>

namespace dw {

struct HeapUsage {
  uint64_t in_use_bytes = 0;    // Allocated and not freed (small chunks and mmapped blocks).
  uint64_t reserved_bytes = 0;  // Obtained from the kernel by all arenas, in use or free.
};

// The resident set in bytes; 0 when /proc cannot be read.
uint64_t residentBytes();

// glibc's counts over all arenas.
HeapUsage heapUsage();

// Returns the free pages of every arena to the kernel (madvise DONTNEED through malloc_trim), so
// that the resident set follows what is in use rather than the peak. Costs about a millisecond
// per few tens of MiB of heap.
void releaseFreeHeap();

// The memory limit of the cgroup this process runs in (cgroup v2 memory.max, or v1
// memory.limit_in_bytes); 0 when there is none or it cannot be read.
uint64_t cgroupMemoryLimit();

}  // namespace dw
