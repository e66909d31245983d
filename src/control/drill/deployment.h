// The drill's view of the deployment under test, through its admin API (/admin/v1) and the
// replicas' fault switches (POST /fault on the reference model): the versions and replicas, the
// control events and alert events (kept and timestamped as the drill first sees them), the
// exported metrics, and the few changes a drill makes (faults, a baseline, a rollback back to
// the version that was stable, a temporary client key).
//
// Thread contract: one thread (the drill's).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace dw::control::drill {

struct ReplicaView {
  std::string url;  // http://127.0.0.1:8101
  bool healthy = false;
};

struct VersionView {
  std::string model;
  std::string version;
  std::string state;  // Registry state: stable, standby, canary, failed...
  std::string track;
  double weight = 0;
  std::optional<double> accuracy_when_stable;
  std::vector<ReplicaView> replicas;
};

struct ControlEvent {
  int64_t id = 0;
  int64_t at_ms = 0;
  std::string kind;
  std::string model;
  std::string version;
  std::string reason;
  nlohmann::json details;
};

struct AlertEventView {
  int64_t seen_ms = 0;  // When the drill first saw it (the gateway's own time has 1 s steps).
  std::string kind;     // fired, escalated, deescalated, resolved
  std::string rule;
  std::string severity;
  nlohmann::json labels;
};

class Deployment {
 public:
  // `on_new` is told about every control event and alert event the first time it is seen.
  Deployment(std::string admin, std::string key,
             std::function<void(const ControlEvent*, const AlertEventView*)> on_new);

  StatusOr<std::vector<VersionView>> versions();
  // Fetches the control events and the alert history; new ones go to `on_new`. The first call
  // only learns what happened before the drill (those are never reported as new).
  Status poll();
  const std::map<int64_t, ControlEvent>& events() const { return events_; }
  const std::vector<AlertEventView>& alertEvents() const { return alert_events_; }
  // Rules firing now, as /admin/v1/alerts lists them (rule names with their labels).
  StatusOr<nlohmann::json> activeAlerts();
  StatusOr<std::string> metrics();

  Status fault(const std::string& replica_url, const nlohmann::json& body);
  // The drift baseline of `model`: whether there is one, and capturing one from the traffic.
  StatusOr<bool> hasBaseline(const std::string& model);
  Status captureBaseline(const std::string& model);
  Status rollback(const std::string& model, const std::string& to, const std::string& reason);
  // A key with the `client` role for the drill's traffic; empty when the gateway runs without
  // authentication. revokeKey() takes it back.
  StatusOr<std::string> createClientKey();
  void revokeKey();

 private:
  StatusOr<nlohmann::json> call(const char* method, const std::string& path,
                                const nlohmann::json& body = nullptr);

  std::string admin_;
  std::string key_;
  std::function<void(const ControlEvent*, const AlertEventView*)> on_new_;
  bool primed_ = false;
  std::map<int64_t, ControlEvent> events_;
  std::vector<AlertEventView> alert_events_;
  std::set<std::string> alert_keys_;  // Alert history rows already seen.
  std::string client_key_id_;
};

// The replica's port in "http://host:port", 0 when there is none.
uint16_t portOf(const std::string& url);

}  // namespace dw::control::drill
