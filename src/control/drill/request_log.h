// What the drill's clients saw: every request with the time it started (seconds since the drill
// began), how long it took and whether it succeeded. The per-fault availability, the requests
// failed during a fault, the moment the service was whole again and the per-second chart of the
// report are all read from here, so the drill judges the deployment by what clients got, not
// only by what the deployment says about itself.
//
// Thread contract: thread-safe (the load generators add from their threads, the drill reads).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace dw::control::drill {

struct RequestSample {
  double started = 0;  // Seconds since the drill began.
  double seconds = 0;  // Latency, or the time to the failure.
  bool ok = false;     // A 2xx answer.
  std::string error;   // Why it failed: the HTTP status ("503"), "reset", "timeout"...
};

struct WindowStats {
  uint64_t requests = 0;
  uint64_t failed = 0;
  double p99 = 0;  // Of the answered requests' latency; 0 when there is none.
  std::map<std::string, uint64_t> errors;  // Failed requests by why.
  double availability() const {
    return requests == 0 ? 1.0 : static_cast<double>(requests - failed) / requests;
  }
};

struct SecondStats {
  uint64_t ok = 0;
  uint64_t failed = 0;
  double max_seconds = 0;  // The slowest request that started in that second.
};

class RequestLog {
 public:
  void add(const RequestSample& sample);

  // Requests that started in [from, to).
  WindowStats window(double from, double to) const;

  // When the service was whole again after `from`, judged at `now`: the end of the last failed
  // request that started in [from, now], provided a request started after it succeeded and
  // `now` is at least `clean_s` past it. `from` itself when nothing failed. Nothing while that
  // clean stretch has not been seen yet.
  std::optional<double> restoredAt(double from, double clean_s, double now) const;

  // When P99 latency of the requests started in a sliding window of `window_s` (stepped by one
  // second) first fell to `threshold` or below, at or after `from`; the end of that window.
  // Nothing when it has not, or when a window holds fewer than `min_requests`.
  std::optional<double> latencyBelowAt(double from, double window_s, double threshold,
                                       uint64_t min_requests, double now) const;

  // One entry per second from 0 to `end`.
  std::vector<SecondStats> perSecond(double end) const;

 private:
  mutable std::mutex mutex_;
  std::vector<RequestSample> samples_;  // Guarded by mutex_; in the order they completed.
};

}  // namespace dw::control::drill
