#include "control/autoscaler.h"

#include <algorithm>
#include <cmath>

namespace dw::control {

int Autoscaler::desired(const ScaleInputs& in, TimePoint now) {
  const int current = std::max(in.current, 1);
  int proposal = in.current;
  auto metric = [&](double value, double target) {
    const double ratio = value / target;
    if (in.current > 0 && std::fabs(ratio - 1.0) <= config_.tolerance) {
      return in.current;  // Within the tolerance: no change for this metric.
    }
    // From zero replicas (scaled to zero), the load as if on one replica: any load needs one.
    return static_cast<int>(std::ceil(current * ratio));
  };
  // Per-replica QPS against the target less the headroom.
  const double per_replica = in.qps / current;
  const double target = config_.target_qps * (1.0 - config_.headroom);
  proposal = metric(per_replica, target);
  if (config_.target_queue > 0 && !std::isnan(in.queue)) {
    proposal = std::max(proposal, metric(in.queue, config_.target_queue));
  }
  proposal = std::clamp(proposal, config_.min_replicas, config_.max_replicas);
  recommendations_.emplace_back(now, proposal);
  while (!recommendations_.empty() &&
         now - recommendations_.front().first > config_.scale_down_stabilization) {
    recommendations_.pop_front();
  }
  if (proposal >= in.current) {
    return proposal;  // Scale up at once.
  }
  int highest = proposal;
  for (const auto& [at, count] : recommendations_) {
    highest = std::max(highest, count);
  }
  return std::min(highest, std::max(in.current, config_.min_replicas));
}

}  // namespace dw::control
