// The full-chain drill (R10): against a running deployment, a staged load (ramp to a target
// rate, hold), then one fault at a time (drill_plan.h), each measured from the injection to its
// detection and to its recovery, with the requests the clients lost meanwhile; then the fleet
// is restored before the next one. The result is a DrillReport with every budget judged.
//
// Thread contract: run() blocks the calling thread for the length of the drill; it starts the
// load generators on threads of its own and joins them before it returns.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "control/drill/alert_sink.h"
#include "control/drill/drill_plan.h"
#include "control/drill/drill_report.h"

namespace dw::control::drill {

struct DrillOptions {
  std::string gateway;    // The API listener: http://127.0.0.1:8080
  std::string admin;      // The admin listener: http://127.0.0.1:9090
  std::string admin_key;  // For /admin/v1 (empty: the gateway runs without authentication).
  std::string api_key;    // For the traffic; empty: a temporary `client` key is created.
  std::string model = "fortune";
  std::string ns = "deepseek";  // The metric namespace of the gateway.
  double qps = 10;
  Duration ramp = std::chrono::seconds(30);
  Duration hold = std::chrono::seconds(60);
  std::vector<FaultKind> faults;
  bool short_drill = false;  // Shorter waits (the CI drill); the budgets are the same.
  // The gateway delivers its alerts to `sink` under this sink name (the drill configured it);
  // without it the sink outage cannot be played and is skipped.
  bool own_sink = false;
  std::string sink_name = "drill";
  Duration latency = std::chrono::milliseconds(1500);  // Added on a replica.
  std::function<void(const std::string&)> log;         // Progress lines for people.
};

class Drill {
 public:
  // `sink` may be null (no sink outage); it must outlive run().
  Drill(DrillOptions options, AlertSink* sink);
  ~Drill();

  // The drill's report; an error only when it cannot start (the deployment is unreachable, the
  // model unknown): a fault that is not detected or not recovered is a failed budget, not an
  // error.
  StatusOr<DrillReport> run();

 private:
  DrillOptions options_;
  AlertSink* sink_;
};

}  // namespace dw::control::drill
