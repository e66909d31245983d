#include "detect/alerting.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/yaml_reader.h"
#include "detect/payloads.h"
#include "net/http_client.h"

namespace dw::detect {

using json = nlohmann::ordered_json;

namespace {

int64_t toMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Status parseRule(const YAML::Node& node, YamlPlace place, RuleConfig* rule) {
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, place));
  DW_RETURN_IF_ERROR(map.string("name", &rule->name, true));
  std::string expr;
  DW_RETURN_IF_ERROR(map.string("expr", &expr, true));
  auto selector = parseSelector(expr);
  if (!selector.ok()) {
    return yamlError(map.placeOf("expr"), map.get("expr"), selector.status().message());
  }
  rule->metric = selector->first;
  rule->matchers = selector->second;
  double value = 0;
  if (map.has("warning")) {
    DW_RETURN_IF_ERROR(map.number("warning", -1e18, 1e18, &value));
    rule->warning = value;
  }
  if (map.has("critical")) {
    DW_RETURN_IF_ERROR(map.number("critical", -1e18, 1e18, &value));
    rule->critical = value;
  }
  DW_RETURN_IF_ERROR(map.boolean("below", &rule->below));
  DW_RETURN_IF_ERROR(map.duration("for", &rule->for_duration));
  DW_RETURN_IF_ERROR(map.number("hysteresis", 0, 1, &rule->hysteresis));
  int64_t min_samples = rule->min_samples;
  DW_RETURN_IF_ERROR(map.integer("min_samples", 0, 1 << 30, &min_samples));
  rule->min_samples = static_cast<uint32_t>(min_samples);
  if (map.has("group_by")) {
    DW_RETURN_IF_ERROR(map.stringList("group_by", &rule->group_by));
  }
  for (const char* key : {"labels", "annotations"}) {
    YAML::Node labels = map.get(key);
    if (!labels.IsDefined() || labels.IsNull()) {
      continue;
    }
    if (!labels.IsMap()) {
      return yamlError(map.placeOf(key), labels, "must map names to strings");
    }
    for (const auto& item : labels) {
      (std::string_view(key) == "labels" ? rule->labels : rule->annotations)[item.first.Scalar()] =
          item.second.Scalar();
    }
  }
  if (map.has("dynamic")) {
    DW_ASSIGN_OR_RETURN(YamlMap band_map,
                        YamlMap::make(map.get("dynamic"), map.placeOf("dynamic")));
    DynamicBand band;
    std::string method = "ewma";
    DW_RETURN_IF_ERROR(band_map.string("method", &method));
    if (method == "mad") {
      band.method = DynamicBand::Method::kMad;
    } else if (method != "ewma") {
      return yamlError(band_map.placeOf("method"), band_map.get("method"), "must be ewma or mad");
    }
    DW_RETURN_IF_ERROR(band_map.duration("window", &band.window));
    DW_RETURN_IF_ERROR(band_map.number("k_warning", 0, 100, &band.k_warning));
    DW_RETURN_IF_ERROR(band_map.number("k_critical", 0, 100, &band.k_critical));
    int64_t warmup = band.warmup;
    DW_RETURN_IF_ERROR(band_map.integer("warmup", 1, 1 << 20, &warmup));
    band.warmup = static_cast<uint32_t>(warmup);
    DW_RETURN_IF_ERROR(band_map.finish());
    rule->dynamic = band;
  }
  if (!rule->warning && !rule->critical && !rule->dynamic) {
    return yamlError(place, node, "a rule needs warning, critical or dynamic");
  }
  return map.finish();
}

}  // namespace

StatusOr<AlertingConfig> parseAlertingConfig(const YAML::Node& node, const std::string& file) {
  AlertingConfig config;
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, YamlPlace{&file, "alerting"}));
  DW_RETURN_IF_ERROR(map.boolean("enabled", &config.enabled));
  DW_RETURN_IF_ERROR(map.boolean("default_rules", &config.default_rules));
  DW_RETURN_IF_ERROR(map.string("window", &config.window));
  DW_RETURN_IF_ERROR(map.duration("group_wait", &config.grouping.group_wait));
  DW_RETURN_IF_ERROR(map.duration("group_interval", &config.grouping.group_interval));
  DW_RETURN_IF_ERROR(map.duration("repeat_interval", &config.grouping.repeat_interval));
  DW_RETURN_IF_ERROR(map.duration("resend_delay", &config.resend_delay));
  DW_RETURN_IF_ERROR(map.integer("max_outbox", 1, 10'000'000, &config.max_outbox));
  YAML::Node rules = map.get("rules");
  if (rules.IsDefined() && !rules.IsNull()) {
    if (!rules.IsSequence()) {
      return yamlError(map.placeOf("rules"), rules, "must be a list of rules");
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      RuleConfig rule;
      DW_RETURN_IF_ERROR(
          parseRule(rules[i], YamlPlace{&file, fmt::format("alerting.rules[{}]", i)}, &rule));
      config.rules.push_back(std::move(rule));
    }
  }
  YAML::Node sinks = map.get("sinks");
  if (sinks.IsDefined() && !sinks.IsNull()) {
    if (!sinks.IsSequence()) {
      return yamlError(map.placeOf("sinks"), sinks, "must be a list of sinks");
    }
    for (size_t i = 0; i < sinks.size(); ++i) {
      YamlPlace place{&file, fmt::format("alerting.sinks[{}]", i)};
      DW_ASSIGN_OR_RETURN(YamlMap sink_map, YamlMap::make(sinks[i], place));
      SinkConfig sink;
      std::string type;
      DW_RETURN_IF_ERROR(sink_map.string("type", &type, true));
      DW_RETURN_IF_ERROR(sink_map.string("url", &sink.url));
      sink.name = type;
      DW_RETURN_IF_ERROR(sink_map.string("name", &sink.name));
      if (type == "alertmanager") {
        sink.kind = SinkConfig::Kind::kAlertmanager;
      } else if (type == "webhook") {
        sink.kind = SinkConfig::Kind::kWebhook;
      } else if (type == "log") {
        sink.kind = SinkConfig::Kind::kLog;
      } else {
        return yamlError(sink_map.placeOf("type"), sink_map.get("type"),
                         "must be alertmanager, webhook or log");
      }
      if (sink.kind != SinkConfig::Kind::kLog && !sink.url.starts_with("http://")) {
        return yamlError(sink_map.placeOf("url"), sink_map.node(), "needs an http:// url");
      }
      DW_RETURN_IF_ERROR(sink_map.finish());
      config.sinks.push_back(std::move(sink));
    }
  }
  if (config.sinks.empty()) {
    config.sinks.push_back(SinkConfig{"log", SinkConfig::Kind::kLog, ""});
  }
  DW_RETURN_IF_ERROR(map.finish());
  return config;
}

Alerting::~Alerting() = default;

StatusOr<std::unique_ptr<Alerting>> Alerting::create(AlertingConfig config, const std::string& ns,
                                                     const std::string& default_window,
                                                     Duration tick, store::Database& db) {
  std::unique_ptr<Alerting> alerting(new Alerting());
  std::vector<RuleConfig> rules;
  if (config.default_rules) {
    rules = defaultRules(ns, config.window.empty() ? default_window : config.window);
  }
  for (RuleConfig& rule : config.rules) {
    // A configured rule replaces a default one of the same name.
    std::erase_if(rules, [&](const RuleConfig& r) { return r.name == rule.name; });
    rules.push_back(rule);
  }
  DW_ASSIGN_OR_RETURN(alerting->evaluator_, Evaluator::create(rules, ns, tick));
  std::map<std::string, std::vector<std::string>> group_by;
  for (const RuleConfig& rule : alerting->evaluator_->rules()) {
    group_by[rule.name] = rule.group_by;
  }
  alerting->grouper_ =
      std::make_unique<Grouper>(config.grouping, [group_by](const std::string& rule) {
        auto it = group_by.find(rule);
        return it == group_by.end() ? std::vector<std::string>{"alertname"} : it->second;
      });
  DW_ASSIGN_OR_RETURN(auto outbox, store::OutboxStore::open(db));
  alerting->outbox_.emplace(std::move(outbox));
  DW_ASSIGN_OR_RETURN(auto events, store::AlertEventStore::open(db));
  alerting->events_.emplace(std::move(events));
  // Prometheus' lease: a firing alert stays active in Alertmanager for 4 re-send periods.
  alerting->lease_ = 4 * std::max(config.resend_delay, tick);
  alerting->config_ = std::move(config);
  return alerting;
}

void Alerting::record(const AlertEvent& event, TimePoint now) {
  json labels = json::object();
  for (const auto& [k, v] : event.alert.labels) {
    labels[k] = v;
  }
  Status status = events_->append(store::AlertEventRow{
      toMillis(now), std::string(eventKindName(event.kind)), event.alert.rule,
      std::string(severityName(event.alert.severity)),
      labels.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), event.alert.value});
  if (!status.ok()) {
    DW_LOG_WARN("cannot store an alert event: {}", status.message());
  }
  DW_LOG_WARN(
      "alert {} {} ({}): {}", event.alert.rule, eventKindName(event.kind),
      severityName(event.alert.severity),
      event.alert.annotations.count("summary") ? event.alert.annotations.at("summary") : "");
}

void Alerting::enqueue(const SinkConfig& sink, const std::string& url, const std::string& payload,
                       TimePoint now) {
  auto id = outbox_->enqueue(sink.name, url, payload, toMillis(now));
  if (!id.ok()) {
    DW_LOG_ERROR("cannot queue a notification for {}: {}", sink.name, id.status().message());
    return;
  }
  auto dropped = outbox_->trim(config_.max_outbox);
  if (dropped.ok() && *dropped > 0) {
    DW_LOG_ERROR("the alert outbox is full: dropped the {} oldest notifications", *dropped);
    std::lock_guard lock(mutex_);
    sent_[{sink.name, "dropped"}] += static_cast<uint64_t>(*dropped);
  }
  if (wake_) {
    wake_->cancel();  // Deliver now rather than at the next poll.
  }
}

void Alerting::evaluate(std::string_view metrics_text, TimePoint now) {
  if (!config_.enabled) {
    return;
  }
  const std::vector<AlertEvent> events =
      evaluator_->evaluate(observe::parsePrometheusText(metrics_text), now);
  for (const AlertEvent& event : events) {
    record(event, now);
  }
  const std::vector<Alert> alerts = evaluator_->alerts();
  // Alertmanager: the alerts themselves, re-sent while firing, sent at once on any change.
  std::vector<Alert> to_alertmanager;
  for (const Alert& alert : alerts) {
    const bool changed = std::any_of(events.begin(), events.end(), [&](const AlertEvent& e) {
      return e.alert.rule == alert.rule && e.alert.fingerprint == alert.fingerprint;
    });
    auto last = last_sent_.find(alert.fingerprint);
    if (changed || last == last_sent_.end() || now - last->second >= config_.resend_delay) {
      to_alertmanager.push_back(alert);
      last_sent_[alert.fingerprint] = now;
    }
    if (alert.state == AlertState::kResolved) {
      last_sent_.erase(alert.fingerprint);
    }
  }
  // A de-escalated or escalated alert has new labels (severity): the old ones are resolved.
  for (const AlertEvent& event : events) {
    if (event.kind == AlertEvent::Kind::kEscalated ||
        event.kind == AlertEvent::Kind::kDeescalated) {
      Alert old = event.alert;
      old.labels["severity"] = std::string(severityName(event.previous));
      old.fingerprint = fingerprint(old.labels);
      old.state = AlertState::kResolved;
      old.resolved_at = now;
      to_alertmanager.push_back(old);
      last_sent_.erase(old.fingerprint);
    }
  }
  for (const SinkConfig& sink : config_.sinks) {
    if (sink.kind == SinkConfig::Kind::kAlertmanager && !to_alertmanager.empty()) {
      enqueue(sink, sink.url + "/api/v2/alerts",
              alertmanagerAlertsJson(to_alertmanager, now, lease_, "http://deepwatch/alerts"), now);
    }
  }
  // Grouped notifications (R9 convergence) for webhooks and the log.
  for (const Notification& n : grouper_->update(alerts, now)) {
    for (const SinkConfig& sink : config_.sinks) {
      if (sink.kind == SinkConfig::Kind::kWebhook) {
        enqueue(sink, sink.url, webhookJson(n, sink.name), now);
      } else if (sink.kind == SinkConfig::Kind::kLog) {
        DW_LOG_WARN("notification {} {}: {} alert(s), {} firing", n.group_key, n.status,
                    n.alerts.size(), n.firing);
        std::lock_guard lock(mutex_);
        sent_[{sink.name, "sent"}] += 1;
      }
    }
    json group = json::object();
    for (const auto& [k, v] : n.group_labels) {
      group[k] = v;
    }
    (void)events_->append(store::AlertEventRow{
        toMillis(now), "notified",
        n.group_labels.count("alertname") ? n.group_labels.at("alertname") : "", n.status,
        group.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        static_cast<double>(n.alerts.size())});
  }
  std::lock_guard lock(mutex_);
  active_.clear();
  for (const Alert& alert : alerts) {
    if (alert.state == AlertState::kFiring) {
      active_[{alert.rule, std::string(severityName(alert.severity))}] += 1;
    }
  }
  for (const AlertEvent& event : events) {
    events_total_[std::string(eventKindName(event.kind))] += 1;
  }
  groups_ = grouper_->groups();
  auto size = outbox_->size();
  outbox_length_ = size.ok() ? *size : outbox_length_;
}

void Alerting::start(asio::io_context& io) {
  io_ = &io;
  running_ = true;
  wake_ = std::make_unique<asio::steady_timer>(io);
  asio::co_spawn(io, dispatchLoop(), asio::detached);
}

void Alerting::stop() {
  running_ = false;
  if (wake_) {
    wake_->cancel();
  }
}

asio::awaitable<void> Alerting::dispatchLoop() {
  while (running_) {
    const TimePoint now = Clock::now();
    auto due = outbox_->due(toMillis(now), 32);
    if (due.ok()) {
      for (const store::OutboxRow& row : *due) {
        auto answer =
            co_await net::httpCallAsync("POST", row.url, row.payload, std::chrono::seconds(5));
        const bool ok = answer.ok() && answer->status >= 200 && answer->status < 300;
        // A 4xx other than 429 will never succeed: keep no such row forever.
        const bool permanent =
            answer.ok() && answer->status >= 400 && answer->status < 500 && answer->status != 429;
        std::string result = ok ? "sent" : (permanent ? "rejected" : "failed");
        if (ok || permanent) {
          (void)outbox_->remove(row.id);
          if (permanent) {
            DW_LOG_ERROR("{} rejected a notification: HTTP {} {}", row.sink, answer->status,
                         answer->body.substr(0, 200));
          }
        } else {
          // Exponential backoff: 1 s, 2 s, 4 s... at most 60 s.
          const int64_t delay_ms =
              std::min<int64_t>(60'000, 1000LL << std::min<int64_t>(row.attempts, 6));
          (void)outbox_->retryLater(row.id, toMillis(Clock::now()) + delay_ms);
        }
        std::lock_guard lock(mutex_);
        sent_[{row.sink, result}] += 1;
      }
    }
    auto size = outbox_->size();
    {
      std::lock_guard lock(mutex_);
      outbox_length_ = size.ok() ? *size : outbox_length_;
    }
    wake_->expires_after(std::chrono::milliseconds(500));
    net::error_code ec;
    co_await wake_->async_wait(net::redirect(ec));
  }
}

std::string Alerting::alertsJson(int history_limit) {
  json active = json::array();
  for (const Alert& alert : evaluator_->alerts()) {
    if (alert.state != AlertState::kFiring) {
      continue;
    }
    json labels = json::object();
    for (const auto& [k, v] : alert.labels) {
      labels[k] = v;
    }
    json annotations = json::object();
    for (const auto& [k, v] : alert.annotations) {
      annotations[k] = v;
    }
    active.push_back({{"rule", alert.rule},
                      {"severity", severityName(alert.severity)},
                      {"value", alert.value},
                      {"since", rfc3339(alert.active_since)},
                      {"labels", std::move(labels)},
                      {"annotations", std::move(annotations)}});
  }
  json history = json::array();
  auto rows = events_->recent(history_limit);
  if (rows.ok()) {
    for (const store::AlertEventRow& row : *rows) {
      history.push_back({{"at", rfc3339(TimePoint(std::chrono::milliseconds(row.at_ms)))},
                         {"kind", row.kind},
                         {"rule", row.rule},
                         {"severity", row.severity},
                         {"value", row.value},
                         {"labels", json::parse(row.labels_json, nullptr, false)}});
    }
  }
  return json{{"active", std::move(active)}, {"history", std::move(history)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool Alerting::criticalFiring(const std::string& model, const std::string& version) const {
  for (const Alert& alert : evaluator_->alerts()) {
    if (alert.state != AlertState::kFiring || alert.severity != Severity::kCritical) {
      continue;
    }
    auto m = alert.labels.find("model");
    auto v = alert.labels.find("version");
    if (m != alert.labels.end() && m->second == model && v != alert.labels.end() &&
        v->second == version) {
      return true;
    }
  }
  return false;
}

void Alerting::writeMetrics(observe::ExpositionWriter& w, const std::string& ns) const {
  std::lock_guard lock(mutex_);
  w.family(ns + "_alerts_active", "gauge", "Firing alerts by rule and severity.");
  for (const auto& [key, count] : active_) {
    w.sample(ns + "_alerts_active", {{"alertname", key.first}, {"severity", key.second}},
             static_cast<double>(count));
  }
  w.family(ns + "_alert_events_total", "counter", "Alert lifecycle events by kind.");
  for (const auto& [kind, count] : events_total_) {
    w.sample(ns + "_alert_events_total", {{"kind", kind}}, static_cast<double>(count));
  }
  w.family(ns + "_alert_notifications_total", "counter", "Notifications by sink and result.");
  for (const auto& [key, count] : sent_) {
    w.sample(ns + "_alert_notifications_total", {{"sink", key.first}, {"result", key.second}},
             static_cast<double>(count));
  }
  w.family(ns + "_alert_outbox_length", "gauge", "Notifications waiting for their sink.");
  w.sample(ns + "_alert_outbox_length", {}, static_cast<double>(outbox_length_));
  w.family(ns + "_alert_groups", "gauge", "Alert groups awaiting or past their first notice.");
  w.sample(ns + "_alert_groups", {}, static_cast<double>(groups_));
}

}  // namespace dw::detect
