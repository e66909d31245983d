#include "detect/grouper.h"

namespace dw::detect {
namespace {

// An alert's identity within its group ignores its severity: a warning that became critical is
// the same member, updated.
uint64_t memberKey(const Alert& alert) {
  LabelSet labels = alert.labels;
  labels.erase("severity");
  return fingerprint(labels);
}

}  // namespace

std::vector<Notification> Grouper::update(const std::vector<Alert>& alerts, TimePoint now) {
  for (const Alert& alert : alerts) {
    LabelSet group_labels;
    std::string key = "{";
    for (const std::string& name : group_by_(alert.rule)) {
      auto it = alert.labels.find(name);
      const std::string value = it == alert.labels.end() ? "" : it->second;
      group_labels[name] = value;
      key += name + "=\"" + value + "\",";
    }
    key += "}";
    auto [it, created] = groups_.try_emplace(key);
    Group& group = it->second;
    if (created) {
      group.labels = group_labels;
      group.created = now;
    }
    auto member = group.alerts.find(memberKey(alert));
    if (member == group.alerts.end()) {
      if (alert.state == AlertState::kFiring) {
        group.alerts.emplace(memberKey(alert), alert);
        group.changed = true;
      }
    } else {
      const bool differs =
          member->second.state != alert.state || member->second.severity != alert.severity;
      member->second = alert;
      group.changed = group.changed || differs;
    }
  }

  std::vector<Notification> due;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& group = it->second;
    size_t firing = 0;
    for (const auto& [key, alert] : group.alerts) {
      firing += alert.state == AlertState::kFiring ? 1 : 0;
    }
    if (!group.notified && firing == 0) {
      it = groups_.erase(it);  // Resolved before its first notice: nothing to say.
      continue;
    }
    bool notify = false;
    if (!group.notified) {
      notify = now - group.created >= config_.group_wait;
    } else if (group.changed) {
      notify = now - group.last_notified >= config_.group_interval;
    } else if (firing > 0) {
      notify = now - group.last_notified >= config_.repeat_interval;
    }
    if (!notify) {
      ++it;
      continue;
    }
    Notification n;
    n.group_key = it->first;
    n.group_labels = group.labels;
    n.firing = firing;
    n.status = firing > 0 ? "firing" : "resolved";
    n.at = now;
    for (const auto& [key, alert] : group.alerts) {
      n.alerts.push_back(alert);
    }
    due.push_back(std::move(n));
    group.notified = true;
    group.changed = false;
    group.last_notified = now;
    // Resolved members have been told; they leave the group.
    for (auto member = group.alerts.begin(); member != group.alerts.end();) {
      member = member->second.state == AlertState::kFiring ? std::next(member)
                                                           : group.alerts.erase(member);
    }
    it = group.alerts.empty() ? groups_.erase(it) : std::next(it);
  }
  return due;
}

}  // namespace dw::detect
