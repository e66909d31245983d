// The state of one drill while it runs, shared by the stages (drill_runner.cc) and the faults
// (drill_faults.cc). Internal to src/control/drill.
//
// Thread contract: the drill's thread, except `requests` (thread-safe) and the load generators.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "control/drill/alert_sink.h"
#include "control/drill/deployment.h"
#include "control/drill/drill_report.h"
#include "control/drill/drill_runner.h"
#include "control/drill/request_log.h"
#include "control/load_generator.h"

namespace dw::control::drill {

class DrillRun {
 public:
  DrillRun(const DrillOptions& options, AlertSink* sink);
  ~DrillRun();

  StatusOr<DrillReport> run();

 private:
  // Stages (drill_runner.cc).
  Status prepare();
  void startLoad();
  void stopLoad();
  void stage(const std::string& name, double seconds);
  void settle(const std::string& after);
  DrillReport finish();

  // Helpers (drill_runner.cc).
  double now() const;  // Seconds since the drill began.
  double toDrill(int64_t wall_ms) const;
  void note(const std::string& kind, const std::string& fault, const std::string& text,
            double at = -1);
  void poll();
  void sleepPolling(double seconds);
  std::optional<VersionView> stable();
  std::vector<VersionView> versionsOr();
  // The first control event of one of `kinds` for the model at or after `since_ms` that
  // `accept` takes.
  const ControlEvent* controlEvent(const std::set<std::string>& kinds, int64_t since_ms,
                                   const std::function<bool(const ControlEvent&)>& accept = {});
  // The first alert of one of `rules` that fired (or escalated) for the model since `since_ms`.
  const AlertEventView* alertFired(const std::set<std::string>& rules, int64_t since_ms);
  // The drill time of the first signal that names a fault: a control event of one of `kinds`,
  // else an alert of one of `rules`, since `since_ms`; records it in `result.detected_by`.
  std::optional<double> eventOrAlert(FaultResult& result, const std::set<std::string>& kinds,
                                     const std::set<std::string>& rules, int64_t since_ms);
  // Whether an alert of one of `rules` (any, when empty) is firing for the model now; with
  // `new_only`, alerts that already fired when the faults began do not count.
  bool alertActive(const std::set<std::string>& rules, bool new_only = false);
  std::set<std::string> firingAlerts();  // Keys (rule and labels) of the model's alerts.
  // The time a fault may take to be detected and recovered before the drill gives up on it.
  double waitFor(const FaultSpec& spec) const;
  // Waits until `done()` or `limit` seconds after `from`, polling the deployment.
  void waitUntil(double from, double limit, const std::function<bool()>& done);

  // A fault's target: the stable version's first healthy replica, or nullopt with `skip_reason`
  // recorded in `result` when there is none.
  struct ReplicaTarget {
    std::string url;
    std::string name;  // As the report names it.
  };
  std::optional<ReplicaTarget> stableReplica(FaultResult& result, std::string_view skip_reason);
  // Faults (drill_faults.cc); each fills `result` and restores the fleet.
  void replicaCrash(FaultResult& result);
  void primariesDown(FaultResult& result);
  void replicaLatency(FaultResult& result);
  void degradedQuality(FaultResult& result);
  void inputDrift(FaultResult& result);
  void sinkOutage(FaultResult& result);
  void detectAndRecover(FaultResult& result, const std::function<std::optional<double>()>& detect,
                        const std::function<std::optional<double>()>& recover);

  const DrillOptions& options_;
  AlertSink* sink_;
  Deployment deployment_;
  RequestLog requests_;
  DrillReport report_;
  int64_t start_ms_ = 0;
  std::string api_key_;
  std::set<std::string> chronic_alerts_;  // Firing before the first fault (not the drill's).
  std::vector<std::string> normal_bodies_;
  std::vector<std::string> drift_bodies_;
  std::unique_ptr<LoadGenerator> load_;
  std::thread load_thread_;
  double load_started_ = 0;
  std::string load_error_;
};

}  // namespace dw::control::drill
