#include "control/drill/request_log.h"

#include <algorithm>
#include <cmath>

namespace dw::control::drill {

namespace {

double p99Of(std::vector<double>& latencies) {
  if (latencies.empty()) {
    return 0;
  }
  // Nearest rank: the smallest value with at least 99% of the values at or below it.
  const size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(latencies.size())));
  std::nth_element(latencies.begin(), latencies.begin() + (rank - 1), latencies.end());
  return latencies[rank - 1];
}

}  // namespace

void RequestLog::add(const RequestSample& sample) {
  std::lock_guard lock(mutex_);
  samples_.push_back(sample);
}

WindowStats RequestLog::window(double from, double to) const {
  std::lock_guard lock(mutex_);
  WindowStats stats;
  std::vector<double> latencies;
  for (const RequestSample& s : samples_) {
    if (s.started < from || s.started >= to) {
      continue;
    }
    ++stats.requests;
    if (s.ok) {
      latencies.push_back(s.seconds);
    } else {
      ++stats.failed;
      ++stats.errors[s.error.empty() ? "failed" : s.error];
    }
  }
  stats.p99 = p99Of(latencies);
  return stats;
}

std::optional<double> RequestLog::restoredAt(double from, double clean_s, double now) const {
  std::vector<RequestSample> after;
  {
    std::lock_guard lock(mutex_);
    for (const RequestSample& s : samples_) {
      if (s.started >= from && s.started <= now) {
        after.push_back(s);
      }
    }
  }
  // The service is whole from the end of the last failure seen, once a request started after
  // it succeeded and `clean_s` have passed without another failure.
  double candidate = from;
  for (const RequestSample& s : after) {
    if (!s.ok) {
      candidate = std::max(candidate, s.started + s.seconds);
    }
  }
  const bool answered_after = std::any_of(after.begin(), after.end(), [&](const RequestSample& s) {
    return s.ok && s.started >= candidate;
  });
  if (answered_after && now >= candidate + clean_s) {
    return candidate;
  }
  return std::nullopt;
}

std::optional<double> RequestLog::latencyBelowAt(double from, double window_s, double threshold,
                                                 uint64_t min_requests, double now) const {
  for (double end = from + window_s; end <= now; end += 1) {
    const WindowStats stats = window(end - window_s, end);
    if (stats.requests - stats.failed >= min_requests && stats.p99 <= threshold) {
      return end;
    }
  }
  return std::nullopt;
}

std::vector<SecondStats> RequestLog::perSecond(double end) const {
  std::vector<SecondStats> seconds(static_cast<size_t>(std::max(0.0, std::ceil(end))));
  std::lock_guard lock(mutex_);
  for (const RequestSample& s : samples_) {
    if (s.started < 0) {
      continue;
    }
    const auto i = static_cast<size_t>(s.started);
    if (i >= seconds.size()) {
      continue;
    }
    (s.ok ? seconds[i].ok : seconds[i].failed) += 1;
    seconds[i].max_seconds = std::max(seconds[i].max_seconds, s.seconds);
  }
  return seconds;
}

}  // namespace dw::control::drill
