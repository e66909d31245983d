// The maintenance controller (R3, R4, R5): it supervises launched replicas and restarts them
// (L1), notices when traffic has moved to a standby (L2), probes every version's accuracy and
// rolls a degraded stable version back (L3), runs deployments as canary releases with analysis
// at each step or as direct switches (R4), and scales launched versions with the HPA algorithm
// (R3). Every action is an event with its reason, timings and the metrics before and after, and
// every version state change is kept in the registry (SQLite).
//
// Detectors never act; the controller never measures: it reads the gateway's observed windows,
// replica health and probe results, and acts through the gateway's configuration.
//
// Thread contract: everything on the gateway's control thread, except writeMetrics() (any
// thread) and stopProcesses() (the main thread, after the gateway stopped).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "control/autoscaler.h"
#include "control/cluster.h"
#include "control/control_config.h"
#include "control/experiments.h"
#include "control/history_recorder.h"
#include "control/prober.h"
#include "control/report_scheduler.h"
#include "control/supervisor.h"
#include "gateway/gateway.h"
#include "store/control_store.h"
#include "store/state_store.h"

namespace dw::control {

class Controller {
 public:
  static StatusOr<std::unique_ptr<Controller>> create(ControlConfig config,
                                                      gateway::Gateway& gateway);
  ~Controller();

  // Registers the controller's hooks, admin routes and metrics on the gateway; call before the
  // gateway starts.
  void attach();
  // Whether a critical alert fires for a model version (from detection), for canary analysis.
  void setCriticalAlertCheck(std::function<bool(const std::string&, const std::string&)> check) {
    critical_alert_ = std::move(check);
  }
  // Stops the supervised processes. Main thread, after the gateway stopped.
  void stopProcesses();

 private:
  struct Rollout;
  struct PendingRestart;

  explicit Controller(ControlConfig config, gateway::Gateway& gateway);
  void start();
  void tick(std::chrono::system_clock::time_point now);
  void poll();

  // Replicas.
  Status launchReplicas(const std::string& model, const std::string& version, int count);
  Status stopReplicas(const std::string& model, const std::string& version, int count);
  Status publishReplicaSets();
  void addLaunched(gateway::GatewayConfig& config) const;

  // Recovery.
  void checkRestarts();
  void checkStandby();
  void checkAccuracy();
  // The version to roll `stable` back to: the last other version that was stable and still has
  // replicas, else a standby with replicas; empty when there is none.
  std::string rollbackTarget(const gateway::ModelRoute& model, const std::string& stable);
  gateway::Gateway::AdminReply handleSettings(const nlohmann::ordered_json& body, bool post,
                                              const std::string& actor);
  // Rollouts.
  Status deploy(const std::string& model, const std::string& version, bool direct,
                const std::string& actor, const std::string& reason);
  void advance(Rollout& rollout);
  std::string analyze(Rollout& rollout, bool* pass, bool* enough);
  Status setRoute(const std::string& model, const std::string& version, gateway::Track track,
                  double weight, const std::string& other, gateway::Track other_track,
                  double other_weight);
  void finish(Rollout& rollout, const std::string& state, const std::string& reason);
  // Stores a rollout's document when it changed (R9: a rollout survives its controller).
  Status saveRollout(Rollout& rollout);
  // Takes the rollouts from the state store and resumes those in flight at their step; false
  // when the store could not be read.
  bool loadRollouts();
  void rollback(const std::string& model, const std::string& from, const std::string& to,
                const std::string& kind, const std::string& actor, const std::string& reason);
  asio::awaitable<void> compatibilityCheck(std::string model, std::string version);
  // Autoscaling.
  void autoscale();

  // Registry and events.
  void setState(const std::string& model, const std::string& version, const std::string& state,
                const std::string& actor, const std::string& reason, double accuracy = -2);
  int64_t event(const std::string& kind, const std::string& model, const std::string& version,
                const std::string& actor, const std::string& reason, const std::string& details);
  std::string metricsJson(const std::string& model, const std::string& version) const;

  gateway::Gateway::AdminReply handleAdmin(const net::Request& request,
                                           const gateway::AdminCaller& caller);
  void writeMetrics(observe::ExpositionWriter& w) const;

  ControlConfig config_;
  gateway::Gateway& gateway_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<Prober> prober_;
  std::unique_ptr<Experiments> experiments_;  // R6 A/B experiments.
  std::unique_ptr<Cluster> cluster_;          // R9 several gateways; null on its own.
  std::unique_ptr<HistoryRecorder> history_;  // R6 rollups for the weekly report.
  std::unique_ptr<ReportScheduler> reports_;  // R6 the weekly report.
  std::optional<store::ControlStore> store_;
  // The rollouts' state: SQLite on one gateway, etcd in a cluster (the leader writes).
  std::unique_ptr<store::StateStore> state_;
  bool was_leading_ = false;  // In a cluster: whether the last tick led (resume on gaining it).
  std::map<std::pair<std::string, std::string>, std::vector<uint16_t>> launched_;
  std::map<std::pair<std::string, std::string>, Autoscaler> autoscalers_;
  std::map<std::pair<std::string, std::string>, SteadyClock::time_point> last_scaled_;
  std::map<std::string, std::unique_ptr<Rollout>> rollouts_;  // By model; the latest one.
  std::map<uint16_t, std::unique_ptr<PendingRestart>> restarts_;
  std::map<std::string, std::pair<SteadyClock::time_point, int64_t>> on_standby_;  // By model.
  std::map<std::pair<std::string, std::string>, std::string> compatibility_;  // "", "ok", error.
  std::function<bool(const std::string&, const std::string&)> critical_alert_;
  std::unique_ptr<asio::steady_timer> poll_timer_;
  bool started_ = false;

  bool in_admin_ = false;             // Handling an admin request (audited by the gateway).
  mutable std::mutex metrics_mutex_;  // Guards what writeMetrics() reads.
  std::map<std::pair<std::string, std::string>, Accuracy> accuracy_;
  std::map<std::pair<std::string, std::string>, uint64_t> unanswered_;
  std::map<std::pair<std::string, std::string>, int> running_;
  std::map<std::string, uint64_t> events_total_;
};

}  // namespace dw::control
