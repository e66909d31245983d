// A worker's metric shard: one flat array of counters (observe/layout.h) per series (a model
// version), written by the worker alone with relaxed loads and stores (no locked instruction)
// and read by the control thread when it merges shards at each tick (STYLE.md, Threading; the
// Sink/Combine shape of DuckDB's operators).
//
// Thread contract: record() and the record* helpers on the owning worker only; peek() from any
// thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "observe/input_scanner.h"
#include "observe/layout.h"
#include "observe/output_scanner.h"

namespace dw::observe {

// Series ids: model id * kVersionSlots + version index; the last version slot of a model counts
// requests answered before a version was chosen.
inline constexpr int kVersionSlots = 8;
inline constexpr int kNoVersion = kVersionSlots - 1;
inline constexpr int kMaxModels = 64;
inline constexpr int kMaxSeries = kMaxModels * kVersionSlots;
inline int seriesId(uint32_t model_id, int version_index) {
  const int model = model_id < kMaxModels ? static_cast<int>(model_id) : kMaxModels - 1;
  const int version = version_index >= 0 && version_index < kNoVersion ? version_index : kNoVersion;
  return model * kVersionSlots + version;
}

class WorkerShard {
 public:
  WorkerShard();
  ~WorkerShard();
  WorkerShard(const WorkerShard&) = delete;
  WorkerShard& operator=(const WorkerShard&) = delete;

  void add(int series, int index, uint64_t n = 1) {
    std::atomic<uint64_t>& counter = counters(series)[index];
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // The series' counters, or null when this worker never recorded it. Any thread.
  const std::atomic<uint64_t>* peek(int series) const {
    return series_[series].load(std::memory_order_acquire);
  }

 private:
  std::atomic<uint64_t>* counters(int series) {
    std::atomic<uint64_t>* c = series_[series].load(std::memory_order_relaxed);
    return c != nullptr ? c : allocate(series);
  }
  std::atomic<uint64_t>* allocate(int series);

  std::array<std::atomic<std::atomic<uint64_t>*>, kMaxSeries> series_{};
};

// Records what the gateway saw of one request, on the worker that handled it.
void recordInput(WorkerShard& shard, int series, const InputScanner& input);
void recordResponse(WorkerShard& shard, int series, Endpoint endpoint, int status, bool stream,
                    double seconds);
void recordTimeToFirstToken(WorkerShard& shard, int series, double seconds);
void recordInterToken(WorkerShard& shard, int series, double seconds);
// `label_slot` from a LabelExtractor; `low_confidence` is the configured threshold.
void recordOutput(WorkerShard& shard, int series, const OutputFeatures& output, int label_slot,
                  double low_confidence);

}  // namespace dw::observe
