// A mergeable histogram with logarithmic buckets and a relative error bound (the DDSketch
// construction): a value x > 0 falls in bucket ceil(log_gamma(x)) with gamma = (1 + a) / (1 - a),
// and every quantile read back is within a relative error a of the true sample quantile. With
// a = 0.01 (1%, the default) latencies from 1 us to 10^4 s need about 1,150 buckets.
//
// Used for latency quantiles per window (R2.1's P99): per-worker shards add, the control thread
// merges them, and windows are sums of per-tick deltas.
//
// Thread contract: not thread-safe; counts are plain integers. Shards that another thread reads
// use LogHistogramShard (atomic counts) instead.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace dw::stats {

// The bucket layout shared by histograms that merge: relative accuracy and value range.
class LogBuckets {
 public:
  // Values at or below `min_value` share the lowest bucket, at or above `max_value` the highest.
  LogBuckets(double relative_accuracy = 0.01, double min_value = 1e-6, double max_value = 1e4);

  int count() const { return count_; }
  int index(double value) const {
    if (!(value > min_value_)) {
      return 0;
    }
    if (value >= max_value_) {
      return count_ - 1;
    }
    const int i = static_cast<int>(std::ceil(std::log(value) * inv_log_gamma_)) - offset_;
    return i < 1 ? 1 : (i > count_ - 2 ? count_ - 2 : i);
  }
  // The value a bucket stands for: within relative_accuracy of every value it holds.
  double value(int index) const;
  double relativeAccuracy() const { return alpha_; }

 private:
  double alpha_;
  double gamma_;
  double inv_log_gamma_;
  double min_value_;
  double max_value_;
  int offset_;
  int count_;
};

class LogHistogram {
 public:
  explicit LogHistogram(const LogBuckets& buckets) : buckets_(&buckets), counts_(buckets.count()) {}

  void add(double value, uint64_t n = 1) {
    counts_[buckets_->index(value)] += n;
    total_ += n;
    sum_ += value * static_cast<double>(n);
  }
  void addBucket(int index, uint64_t n) {
    counts_[index] += n;
    total_ += n;
    sum_ += buckets_->value(index) * static_cast<double>(n);
  }
  // Adds `other`, which must share the bucket layout.
  void merge(const LogHistogram& other);
  // Removes `other` (a part of this histogram added earlier), for sliding windows.
  void subtract(const LogHistogram& other);
  void clear();

  uint64_t count() const { return total_; }
  double sum() const { return sum_; }
  // The q-quantile (0 <= q <= 1) of the values added, within the relative accuracy; NaN when
  // empty. Uses the lower rank floor(q * (n - 1)), like numpy's "lower" interpolation.
  double quantile(double q) const;
  const std::vector<uint64_t>& counts() const { return counts_; }
  const LogBuckets& buckets() const { return *buckets_; }

 private:
  const LogBuckets* buckets_;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  double sum_ = 0;
};

}  // namespace dw::stats
