// Latency-based outlier detection: Envoy's outlier detection ejects a replica whose success
// rate or failure percentage stands out from its peers'; a replica that answers every request,
// only slowly (an overheated GPU, a noisy neighbour, a bad driver), is never ejected that way,
// yet least-request balancing still sends it a share of the traffic and the clients' P99 stays
// high (R2.1). This file holds the decision: each worker keeps a bounded EWMA of every replica's
// latency and, at an interval, compares each replica of a version with the median of the
// others. The Proxy owns the state and acts on the verdicts; here are only values and pure
// functions, so that the rule is tested on made-up numbers without a clock or a socket.
//
// Thread contract: LatencyEwma is a value; LatencyDetector is worker-local (it reuses scratch
// space between calls); the free functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/duration.h"
#include "gateway/config.h"

namespace dw::gateway {

// A replica's recent latency in seconds: an exponentially weighted moving average that needs no
// buffer (bounded and allocation-free on the hot path). The first samples are averaged plainly
// (weight 1/n) so that a single early sample does not stand for the replica, then each new one
// weighs kAlpha (about the last ten answers count).
class LatencyEwma {
 public:
  static constexpr double kAlpha = 0.2;

  void add(double seconds) {
    if (samples_ < UINT32_MAX) {
      ++samples_;
    }
    const double weight = samples_ * kAlpha < 1 ? 1.0 / samples_ : kAlpha;
    value_ += weight * (seconds - value_);
  }
  // Forgets every sample: after an ejection the replica is judged on fresh answers only.
  void reset() { *this = LatencyEwma(); }

  double seconds() const { return value_; }
  uint32_t samples() const { return samples_; }

 private:
  double value_ = 0;
  uint32_t samples_ = 0;
};

// One replica of a version, as one worker sees it when the detector runs.
struct LatencyCandidate {
  double seconds = 0;        // Its LatencyEwma.
  uint32_t samples = 0;      // Answers behind it since the last ejection.
  bool in_rotation = false;  // Healthy and not ejected on this worker.
};

// A verdict: candidates[index] is to be ejected; its latency and its peers' median, for the log.
struct LatencyEjection {
  size_t index = 0;
  double seconds = 0;
  double peer_median = 0;
};

// The median of `values`, reordering them; 0 when empty. An even count averages the middle two.
double median(std::span<double> values);

// How many of a version's `replicas` may be ejected at once: max_ejection_percent of them,
// rounded down, but always at least one (as the consecutive-failures path has done).
int maxEjected(size_t replicas, int max_ejection_percent);

// Envoy's ejection backoff: the n-th ejection in a row lasts base x n (at most 10x), and n
// drops by one for each base_ejection the replica then spends in rotation, so a replica that
// misbehaves once in a long while is not held out for ever longer.
// The ejection count to start from when a replica has been in rotation for `in_rotation`.
int decayedEjections(int ejections, Duration in_rotation, Duration base);
// How long the `ejections`-th ejection in a row lasts.
Duration ejectionTime(Duration base, int ejections);

class LatencyDetector {
 public:
  // Appends to `out` the replicas of one version to eject for latency now, slowest first, at
  // most `allowed` of them. A replica is ejected when it is in rotation, has at least
  // latency_min_requests samples, and its latency exceeds both latency_min and latency_factor x
  // the median of its peers: the other replicas in rotation with at least latency_min_requests
  // samples. Without such a peer (a version of one replica) nothing is ejected; with
  // latency_factor 0 the detector is off.
  void evaluate(std::span<const LatencyCandidate> version, const OutlierConfig& config, int allowed,
                std::vector<LatencyEjection>* out);

 private:
  std::vector<double> peers_;              // Scratch: no allocation once grown.
  std::vector<LatencyEjection> verdicts_;  // Scratch, before the `allowed` cut.
};

}  // namespace dw::gateway
