#include "gateway/latency_outlier.h"

#include <algorithm>

namespace dw::gateway {

namespace {
constexpr int kMaxBackoffMultiplier = 10;
}  // namespace

double median(std::span<double> values) {
  if (values.empty()) {
    return 0;
  }
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) {
    return upper;
  }
  // After nth_element everything before `mid` is <= upper: the lower middle is their maximum.
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

int maxEjected(size_t replicas, int max_ejection_percent) {
  return std::max(1, static_cast<int>(replicas) * max_ejection_percent / 100);
}

int decayedEjections(int ejections, Duration in_rotation, Duration base) {
  if (ejections <= 0 || in_rotation <= Duration::zero()) {
    return std::max(0, ejections);
  }
  if (base <= Duration::zero()) {
    return 0;
  }
  const int64_t periods = in_rotation / base;
  return periods >= ejections ? 0 : ejections - static_cast<int>(periods);
}

Duration ejectionTime(Duration base, int ejections) {
  return base * std::clamp(ejections, 1, kMaxBackoffMultiplier);
}

void LatencyDetector::evaluate(std::span<const LatencyCandidate> version,
                               const OutlierConfig& config, int allowed,
                               std::vector<LatencyEjection>* out) {
  if (config.latency_factor <= 0 || allowed <= 0 || version.size() < 2) {
    return;
  }
  const auto min_requests = static_cast<uint32_t>(std::max(1, config.latency_min_requests));
  const double floor = toSeconds(config.latency_min);
  auto judged = [&](const LatencyCandidate& c) {
    return c.in_rotation && c.samples >= min_requests;
  };
  verdicts_.clear();
  for (size_t i = 0; i < version.size(); ++i) {
    const LatencyCandidate& candidate = version[i];
    if (!judged(candidate) || candidate.seconds <= floor) {
      continue;
    }
    peers_.clear();
    for (size_t j = 0; j < version.size(); ++j) {
      if (j != i && judged(version[j])) {
        peers_.push_back(version[j].seconds);
      }
    }
    if (peers_.empty()) {
      continue;
    }
    const double peer_median = median(peers_);
    if (candidate.seconds > config.latency_factor * peer_median) {
      verdicts_.push_back({i, candidate.seconds, peer_median});
    }
  }
  std::sort(
      verdicts_.begin(), verdicts_.end(),
      [](const LatencyEjection& a, const LatencyEjection& b) { return a.seconds > b.seconds; });
  const size_t keep = std::min(verdicts_.size(), static_cast<size_t>(allowed));
  out->insert(out->end(), verdicts_.begin(), verdicts_.begin() + static_cast<std::ptrdiff_t>(keep));
}

}  // namespace dw::gateway
