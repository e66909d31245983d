// A histogram over fixed, explicit upper bounds: what Prometheus classic histograms expose.
// (Quantiles with a bounded relative error come from the log-bucketed histograms of the
// observability work; this one serves exposition under names that tools already know, such as
// vLLM's.)
//
// Thread contract: not thread-safe; one owner thread, or a shard per worker merged later.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace dw::stats {

class BucketHistogram {
 public:
  // `bounds` must be strictly increasing; an implicit +Inf bucket follows the last one.
  explicit BucketHistogram(std::span<const double> bounds)
      : bounds_(bounds.begin(), bounds.end()), counts_(bounds.size() + 1, 0) {}

  void observe(double value) {
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[static_cast<size_t>(it - bounds_.begin())];
    sum_ += value;
    ++count_;
  }

  // Adds `other`, which must have the same bounds.
  void merge(const BucketHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) {
      counts_[i] += other.counts_[i];
    }
    sum_ += other.sum_;
    count_ += other.count_;
  }

  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is the +Inf bucket).
  uint64_t bucketCount(size_t i) const { return counts_[i]; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace dw::stats
