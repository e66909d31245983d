// What the sinks receive: Alertmanager's API v2 alerts (ECOSYSTEM.md 3.1, sent as Prometheus
// sends them, 3.2) and the grouped notification in Alertmanager's webhook shape (version 4),
// which generic receivers already understand.
//
// Thread contract: pure functions.
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "detect/alert.h"
#include "detect/grouper.h"

namespace dw::detect {

// POST /api/v2/alerts body. A firing alert's endsAt is `now + lease` (re-sent before it lapses);
// a resolved one's is when it resolved.
std::string alertmanagerAlertsJson(const std::vector<Alert>& alerts, TimePoint now, Duration lease,
                                   const std::string& generator_url);

// The webhook body of one grouped notification; `count` is the number of members.
std::string webhookJson(const Notification& notification, const std::string& receiver);

}  // namespace dw::detect
