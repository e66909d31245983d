// The controller's configuration (the `control:` section; docs/configuration.md): golden-set
// probes, canary analysis (R4.1), and the accuracy rule of L3 recovery (R5).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "control/prober.h"

namespace dw::control {

struct RolloutConfig {
  std::vector<int> steps = {5, 10, 25, 50, 100};  // Canary traffic percentages (R4: from 5%).
  Duration step_interval = std::chrono::seconds(60);
  int min_requests = 50;   // Per arm, in the analysis window, before judging.
  int min_probes = 50;     // Answered probes of the canary before judging, when it is probed.
  double p99_ratio = 1.2;  // R4.1(c): canary P99 at most 1.2x the stable's...
  // ... or at most this much above it: below a few milliseconds a ratio measures the histogram
  // buckets and scheduler noise, not the version.
  Duration p99_slack = std::chrono::milliseconds(5);
  double error_margin = 0.01;     // Canary error ratio at most the stable's plus one point.
  double accuracy_margin = 0.05;  // Canary probe accuracy not lower than this below stable's.
  int max_failed_analyses = 1;    // Failed analyses that roll back.
  Duration ready_timeout = std::chrono::seconds(120);  // For a deployed version to load.
};

struct RecoveryConfig {
  bool rollback_on_accuracy = true;  // L3.
  double accuracy_margin = 0.1;      // Below the version's accuracy when it became stable.
  int recent_probes = 30;            // The recent results compared (and the minimum to judge).
  double confidence = 0.99;          // One-sided two-proportion z-test.
};

// Several gateways sharing state through etcd (R9); no endpoints: one gateway on its own.
struct ClusterConfig {
  std::vector<std::string> etcd;  // http://host:port of the etcd members.
  std::string prefix = "/deepwatch";
  std::string name;  // This instance; default: hostname:admin-port.
  Duration lease_ttl = std::chrono::seconds(10);
  Duration poll = std::chrono::milliseconds(200);
  bool enabled() const { return !etcd.empty(); }
};

struct ControlConfig {
  bool enabled = true;
  std::vector<ProbeConfig> probes;
  RolloutConfig rollout;
  RecoveryConfig recovery;
  // The period of the rollups the weekly report reads (R6): one minute in production; tests and
  // short demos shorten it.
  Duration history_interval = std::chrono::minutes(1);
  ClusterConfig cluster;
};

StatusOr<ControlConfig> parseControlConfig(const YAML::Node& node, const std::string& file);

}  // namespace dw::control
