// A/B experiments run by the gateway (R6): `POST /admin/v1/experiments` splits a model's traffic
// between versions (sticky by a client key), `GET /admin/v1/experiments[/{name}]` judges them
// on what each arm observed since the start (experiment.h: the score, the bootstrap, the
// decision), `POST /admin/v1/experiments/{name}/stop` ends one and restores the routes.
//
// What an arm observed comes from the gateway's own counters: the request-duration histogram,
// requests and 5xx, completion tokens (deltas since the start), the arm's replicas times the
// elapsed time, and the golden-set probes of the version (reset at the start).
//
// Thread contract: the control thread (admin routes run there).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "control/experiment.h"
#include "control/prober.h"
#include "gateway/gateway.h"
#include "report/report_data.h"

namespace dw::control {

class Experiments {
 public:
  // `busy(model)`: why the model cannot run an experiment now (a rollout), or empty.
  Experiments(gateway::Gateway& gateway, Prober& prober,
              std::function<std::string(const std::string&)> busy);

  gateway::Gateway::AdminReply handle(const net::Request& request, const std::string& actor);
  // The experiments that ran during [from_ms, to_ms), with their verdicts, for the weekly report.
  std::vector<report::Experiment> forReport(int64_t from_ms, int64_t to_ms);

 private:
  struct Counters {
    std::vector<uint64_t> duration;  // Request-duration buckets.
    uint64_t requests = 0;
    uint64_t errors = 0;
    uint64_t tokens = 0;
    uint64_t feedback_positive = 0;  // POST /v1/feedback verdicts (R6).
    uint64_t feedback_negative = 0;
  };
  struct Running {
    std::string name;
    ExperimentConfig config;
    std::string actor;
    std::string state = "running";  // running, stopped
    std::chrono::steady_clock::time_point started;
    int64_t started_ms = 0;
    int64_t stopped_ms = 0;
    std::map<std::string, Counters> at_start;  // By version.
    gateway::ModelConfig saved;                // The model's routes before the start.
    nlohmann::json last_verdict;
  };

  Status start(const std::string& name, ExperimentConfig config, const std::string& actor);
  Status stop(Running& experiment);
  nlohmann::json report(Running& experiment);
  std::map<std::string, ArmSamples> samples(const Running& experiment) const;
  std::map<std::string, Counters> counters(const std::string& model) const;

  gateway::Gateway& gateway_;
  Prober& prober_;
  std::function<std::string(const std::string&)> busy_;
  std::map<std::string, std::unique_ptr<Running>> experiments_;  // By name.
  Random random_;
};

}  // namespace dw::control
