// Writes the per-minute rollups that the weekly report reads (R6; store/metrics_history.h): once
// a minute the control tick turns each model version's window statistics, the requests of the
// minute by latency bucket (deltas of the gateway's histogram), its probe accuracy and its
// replicas into a row, and prunes rollups past the retention.
//
// Thread contract: the control thread.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "control/prober.h"
#include "gateway/gateway.h"
#include "store/metrics_history.h"

namespace dw::control {

class HistoryRecorder {
 public:
  HistoryRecorder(gateway::Gateway& gateway, Prober& prober, store::MetricsHistory history,
                  Duration interval = std::chrono::minutes(1));

  // Called at every tick; writes when the wall-clock period (a minute by default) changed.
  void tick(std::chrono::system_clock::time_point now);

 private:
  gateway::Gateway& gateway_;
  Prober& prober_;
  store::MetricsHistory history_;
  int64_t interval_ms_;
  int64_t period_ = 0;
  // Cumulative duration buckets and request counts per (model, version) at the last write.
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> last_duration_;
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> last_requests_;
};

}  // namespace dw::control
