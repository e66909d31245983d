// The Kubernetes HPA algorithm (R3; ECOSYSTEM.md 4.2) on a version's launched replicas:
// desired = ceil(current x metric / target) per metric, ignored within the tolerance, the
// largest over metrics, clamped to [min, max]; scaling down takes the highest desired count of
// the stabilization window, so a dip does not shed capacity. The QPS target keeps the headroom
// of R9: a replica is full at target x (1 - headroom).
//
// Thread contract: an Autoscaler is used by one thread; time is passed in.
#pragma once

#include <chrono>
#include <deque>
#include <utility>

#include "gateway/config.h"

namespace dw::control {

struct ScaleInputs {
  int current = 0;     // Replicas now.
  double qps = 0;      // Requests per second over the version, all replicas together.
  double queue = NAN;  // Waiting requests per replica (engine queue), NaN when unknown.
};

class Autoscaler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit Autoscaler(gateway::AutoscaleConfig config) : config_(config) {}

  // The replica count to run now.
  int desired(const ScaleInputs& inputs, TimePoint now);

 private:
  gateway::AutoscaleConfig config_;
  std::deque<std::pair<TimePoint, int>> recommendations_;  // For scale-down stabilization.
};

}  // namespace dw::control
