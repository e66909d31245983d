#include "control/drill/deployment.h"

#include <fmt/format.h>

#include "base/duration.h"
#include "net/http_client.h"

namespace dw::control::drill {

using json = nlohmann::json;

namespace {

constexpr const char* kActor = "drill";

std::string errorMessage(const net::HttpAnswer& answer) {
  json parsed = json::parse(answer.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    return parsed["error"].value("message", answer.body);
  }
  return answer.body.substr(0, 200);
}

}  // namespace

uint16_t portOf(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t colon = url.find(':', host);
  if (colon == std::string::npos) {
    return 0;
  }
  const int port = std::atoi(url.c_str() + colon + 1);
  return port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
}

Deployment::Deployment(std::string admin, std::string key,
                       std::function<void(const ControlEvent*, const AlertEventView*)> on_new)
    : admin_(std::move(admin)), key_(std::move(key)), on_new_(std::move(on_new)) {}

StatusOr<json> Deployment::call(const char* method, const std::string& path, const json& body) {
  auto answer = net::httpCall(method, admin_ + path, body.is_null() ? "" : body.dump(),
                              std::chrono::seconds(10), key_);
  if (!answer.ok()) {
    return answer.status().withContext(fmt::format("{} {}", method, path));
  }
  if (answer->status != 200) {
    return unavailable(
        fmt::format("{} {}: HTTP {}: {}", method, path, answer->status, errorMessage(*answer)));
  }
  json parsed = json::parse(answer->body, nullptr, false);
  if (parsed.is_discarded()) {
    return unavailable(fmt::format("{} {}: the answer is not JSON", method, path));
  }
  return parsed;
}

StatusOr<std::vector<VersionView>> Deployment::versions() {
  DW_ASSIGN_OR_RETURN(json body, call("GET", "/admin/v1/versions"));
  std::vector<VersionView> out;
  for (const json& v : body.value("versions", json::array())) {
    VersionView view;
    view.model = v.value("model", "");
    view.version = v.value("version", "");
    view.state = v.value("state", "");
    view.track = v.contains("track") && v["track"].is_string() ? v["track"].get<std::string>() : "";
    view.weight = v.contains("weight") && v["weight"].is_number() ? v["weight"].get<double>() : 0;
    if (v.contains("accuracy_when_stable") && v["accuracy_when_stable"].is_number()) {
      view.accuracy_when_stable = v["accuracy_when_stable"].get<double>();
    }
    for (const json& r : v.value("replicas", json::array())) {
      view.replicas.push_back({r.value("url", ""), r.value("healthy", false)});
    }
    out.push_back(std::move(view));
  }
  return out;
}

Status Deployment::poll() {
  const int64_t now = wallClockMs();
  DW_ASSIGN_OR_RETURN(json events, call("GET", "/admin/v1/events"));
  for (const json& e : events.value("events", json::array())) {
    ControlEvent event;
    event.id = e.value("id", int64_t{0});
    event.at_ms = e.value("at_ms", int64_t{0});
    event.kind = e.value("kind", "");
    event.model = e.value("model", "");
    event.version = e.value("version", "");
    event.reason = e.value("reason", "");
    event.details = e.contains("details") ? e["details"] : json::object();
    const bool is_new = events_.count(event.id) == 0;
    events_[event.id] = event;  // Details change as a recovery completes.
    if (is_new && primed_ && on_new_) {
      on_new_(&events_[event.id], nullptr);
    }
  }
  DW_ASSIGN_OR_RETURN(json alerts, call("GET", "/admin/v1/alerts?history=200"));
  for (const json& h : alerts.value("history", json::array())) {
    const std::string key = h.dump();
    if (!alert_keys_.insert(key).second || !primed_) {
      continue;
    }
    AlertEventView view;
    view.seen_ms = now;
    view.kind = h.value("kind", "");
    view.rule = h.value("rule", "");
    view.severity = h.value("severity", "");
    view.labels = h.contains("labels") ? h["labels"] : json::object();
    alert_events_.push_back(view);
    if (on_new_) {
      on_new_(nullptr, &alert_events_.back());
    }
  }
  primed_ = true;
  return okStatus();
}

StatusOr<json> Deployment::activeAlerts() {
  DW_ASSIGN_OR_RETURN(json alerts, call("GET", "/admin/v1/alerts?history=0"));
  return alerts.value("active", json::array());
}

StatusOr<std::string> Deployment::metrics() {
  auto answer = net::httpCall("GET", admin_ + "/metrics", "", std::chrono::seconds(10), key_);
  if (!answer.ok()) {
    return answer.status();
  }
  if (answer->status != 200) {
    return unavailable(fmt::format("GET /metrics: HTTP {}", answer->status));
  }
  return answer->body;
}

Status Deployment::fault(const std::string& replica_url, const json& body) {
  auto answer = net::httpCall("POST", replica_url + "/fault", body.dump(), std::chrono::seconds(5));
  if (body.contains("crash")) {
    return okStatus();  // The replica dies while answering: no answer is the expected one.
  }
  if (!answer.ok()) {
    return answer.status().withContext("POST " + replica_url + "/fault");
  }
  if (answer->status != 200) {
    return unavailable(fmt::format("POST {}/fault: HTTP {}: {}", replica_url, answer->status,
                                   errorMessage(*answer)));
  }
  return okStatus();
}

StatusOr<bool> Deployment::hasBaseline(const std::string& model) {
  auto answer = net::httpCall("GET", admin_ + "/admin/v1/baselines/" + model, "",
                              std::chrono::seconds(10), key_);
  if (!answer.ok()) {
    return answer.status();
  }
  if (answer->status == 404) {
    return false;
  }
  if (answer->status != 200) {
    return unavailable(
        fmt::format("GET baseline: HTTP {}: {}", answer->status, errorMessage(*answer)));
  }
  return true;
}

Status Deployment::captureBaseline(const std::string& model) {
  return call("POST", "/admin/v1/baselines/" + model).status();
}

Status Deployment::rollback(const std::string& model, const std::string& to,
                            const std::string& reason) {
  return call("POST", "/admin/v1/rollback",
              {{"model", model}, {"to", to}, {"actor", kActor}, {"reason", reason}})
      .status();
}

StatusOr<std::string> Deployment::createClientKey() {
  auto created = call("POST", "/admin/v1/keys",
                      {{"name", "drill-client"},
                       {"roles", json::array({"client"})},
                       {"actor", kActor},
                       {"reason", "deepwatch drill: client traffic, revoked at the end"}});
  if (!created.ok()) {
    return created.status();
  }
  client_key_id_ = created->value("id", "");
  return created->value("key", "");
}

void Deployment::revokeKey() {
  if (client_key_id_.empty()) {
    return;
  }
  (void)call("DELETE", "/admin/v1/keys/" + client_key_id_,
             {{"actor", kActor}, {"reason", "deepwatch drill: finished"}});
  client_key_id_.clear();
}

}  // namespace dw::control::drill
