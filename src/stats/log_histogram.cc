#include "stats/log_histogram.h"

#include <limits>

namespace dw::stats {

LogBuckets::LogBuckets(double relative_accuracy, double min_value, double max_value)
    : alpha_(relative_accuracy),
      gamma_((1 + relative_accuracy) / (1 - relative_accuracy)),
      inv_log_gamma_(1.0 / std::log(gamma_)),
      min_value_(min_value),
      max_value_(max_value) {
  // Bucket 0 holds values <= min_value; buckets 1.. cover (min_value, max_value).
  const int low = static_cast<int>(std::ceil(std::log(min_value) * inv_log_gamma_));
  const int high = static_cast<int>(std::ceil(std::log(max_value) * inv_log_gamma_));
  offset_ = low - 1;
  // Regular buckets 1 .. high - offset_; one more, the last, holds values at or above max_value,
  // so no regular bucket is read back as max_value.
  count_ = high - offset_ + 2;
}

double LogBuckets::value(int index) const {
  if (index <= 0) {
    return min_value_;
  }
  if (index >= count_ - 1) {
    return max_value_;
  }
  // The midpoint (in relative terms) of (gamma^(k-1), gamma^k]: 2 gamma^k / (gamma + 1).
  const int k = index + offset_;
  return 2.0 * std::pow(gamma_, k) / (gamma_ + 1.0);
}

void LogHistogram::merge(const LogHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  total_ += other.total_;
  sum_ += other.sum_;
}

void LogHistogram::subtract(const LogHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] -= other.counts_[i];
  }
  total_ -= other.total_;
  sum_ -= other.sum_;
}

void LogHistogram::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  sum_ = 0;
}

double LogHistogram::quantile(double q) const {
  if (total_ == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  q = q < 0 ? 0 : (q > 1 ? 1 : q);
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen > rank) {
      return buckets_->value(static_cast<int>(i));
    }
  }
  return buckets_->value(static_cast<int>(counts_.size()) - 1);
}

}  // namespace dw::stats
