#include "detect/payloads.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace dw::detect {

using json = nlohmann::ordered_json;

namespace {

json labelsJson(const LabelSet& labels) {
  json out = json::object();
  for (const auto& [k, v] : labels) {
    if (!v.empty()) {
      out[k] = v;  // Alertmanager drops empty label values anyway.
    }
  }
  return out;
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string alertmanagerAlertsJson(const std::vector<Alert>& alerts, TimePoint now, Duration lease,
                                   const std::string& generator_url) {
  json out = json::array();
  for (const Alert& alert : alerts) {
    const bool resolved = alert.state == AlertState::kResolved;
    out.push_back(
        {{"labels", labelsJson(alert.labels)},
         {"annotations", labelsJson(alert.annotations)},
         {"startsAt", rfc3339(alert.active_since)},
         {"endsAt", rfc3339(resolved ? alert.resolved_at
                                     : now + std::chrono::duration_cast<Clock::duration>(lease))},
         {"generatorURL", generator_url}});
  }
  return dump(out);
}

std::string webhookJson(const Notification& notification, const std::string& receiver) {
  json alerts = json::array();
  LabelSet common;
  bool first = true;
  for (const Alert& alert : notification.alerts) {
    if (first) {
      common = alert.labels;
      first = false;
    } else {
      for (auto it = common.begin(); it != common.end();) {
        auto other = alert.labels.find(it->first);
        it = other == alert.labels.end() || other->second != it->second ? common.erase(it)
                                                                        : std::next(it);
      }
    }
    const bool resolved = alert.state == AlertState::kResolved;
    alerts.push_back({{"status", resolved ? "resolved" : "firing"},
                      {"labels", labelsJson(alert.labels)},
                      {"annotations", labelsJson(alert.annotations)},
                      {"startsAt", rfc3339(alert.active_since)},
                      {"endsAt", resolved ? rfc3339(alert.resolved_at) : "0001-01-01T00:00:00Z"},
                      {"fingerprint", fmt::format("{:016x}", alert.fingerprint)}});
  }
  json out = {{"version", "4"},
              {"groupKey", notification.group_key},
              {"truncatedAlerts", 0},
              {"status", notification.status},
              {"receiver", receiver},
              {"groupLabels", labelsJson(notification.group_labels)},
              {"commonLabels", labelsJson(common)},
              {"commonAnnotations", json::object()},
              {"externalURL", ""},
              {"count", notification.alerts.size()},
              {"firing", notification.firing},
              {"alerts", std::move(alerts)}};
  return dump(out);
}

}  // namespace dw::detect
