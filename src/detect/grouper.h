// Alert convergence (R9): alerts of the same type (rule plus group_by labels) are merged into
// one notification that carries their count and members, with Alertmanager's timing: a new
// group waits group_wait before its first notification, a changed group is notified at most
// every group_interval (5 minutes by default: alerts within 5 minutes merge), an unchanged
// firing group is re-notified after repeat_interval, and a group whose alerts all resolved gets
// one resolved notice.
//
// Thread contract: control thread only; time is passed in.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/duration.h"
#include "detect/alert.h"

namespace dw::detect {

struct GroupingConfig {
  Duration group_wait = std::chrono::seconds(30);
  Duration group_interval = std::chrono::minutes(5);
  Duration repeat_interval = std::chrono::hours(4);
};

struct Notification {
  std::string group_key;
  LabelSet group_labels;
  std::string status;         // "firing" while any member fires, else "resolved".
  std::vector<Alert> alerts;  // Members: firing ones and those resolved since the last notice.
  size_t firing = 0;
  TimePoint at{};
};

class Grouper {
 public:
  // `group_by(rule)` names the labels that group that rule's alerts.
  using GroupBy = std::function<std::vector<std::string>(const std::string& rule)>;

  Grouper(GroupingConfig config, GroupBy group_by)
      : config_(config), group_by_(std::move(group_by)) {}

  // Takes the current alerts (firing, and resolved at this evaluation) and returns the
  // notifications due at `now`.
  std::vector<Notification> update(const std::vector<Alert>& alerts, TimePoint now);

  size_t groups() const { return groups_.size(); }

 private:
  struct Group {
    LabelSet labels;
    std::map<uint64_t, Alert> alerts;  // By fingerprint of the alert's labels minus severity.
    TimePoint created{};
    TimePoint last_notified{};
    bool notified = false;
    bool changed = false;
  };

  GroupingConfig config_;
  GroupBy group_by_;
  std::map<std::string, Group> groups_;
};

}  // namespace dw::detect
