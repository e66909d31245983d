#include "control/drill/drill_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "control/drill/drill_run.h"
#include "net/http_client.h"

namespace dw::control::drill {

using json = nlohmann::json;

namespace {

// The usual traffic: a mix of topics, mostly English, classified (so output features move too).
const std::vector<std::string> kPrompts = {
    "The computer crashed again",          "Science is what we know",   "床前明月光，疑是地上霜。",
    "Politics is the art of the possible", "Work is love made visible", "Art is long, life short"};
// The drifted traffic (R2.2): classical Chinese poetry only, a distribution the baseline of the
// usual traffic does not have.
const std::vector<std::string> kDriftPrompts = {"白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
                                                "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
                                                "千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。",
                                                "红豆生南国，春来发几枝。愿君多采撷，此物最相思。",
                                                "慈母手中线，游子身上衣。临行密密缝，意恐迟迟归。",
                                                "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。"};

std::vector<std::string> chatBodies(const std::string& model,
                                    const std::vector<std::string>& prompts) {
  std::vector<std::string> bodies;
  for (const std::string& prompt : prompts) {
    json body = {{"model", model},
                 {"messages", json::array({{{"role", "system"}, {"content", "classify"}},
                                           {{"role", "user"}, {"content", prompt}}})},
                 {"max_tokens", 16},
                 {"logprobs", true}};
    bodies.push_back(body.dump());
  }
  return bodies;
}

std::string describe(const ControlEvent& e) {
  return fmt::format("{} {} {}: {}", e.kind, e.model, e.version, e.reason);
}

std::string describe(const AlertEventView& a) {
  std::string labels;
  for (const char* key : {"model", "version", "replica", "feature"}) {
    if (a.labels.is_object() && a.labels.contains(key) && a.labels[key].is_string()) {
      labels += fmt::format(" {}={}", key, a.labels[key].get<std::string>());
    }
  }
  return fmt::format("{} {} ({}){}", a.kind, a.rule, a.severity, labels);
}

}  // namespace

Drill::Drill(DrillOptions options, AlertSink* sink) : options_(std::move(options)), sink_(sink) {}
Drill::~Drill() = default;

StatusOr<DrillReport> Drill::run() {
  DrillRun run(options_, sink_);
  return run.run();
}

DrillRun::DrillRun(const DrillOptions& options, AlertSink* sink)
    : options_(options),
      sink_(sink),
      deployment_(options.admin, options.admin_key,
                  [this](const ControlEvent* e, const AlertEventView* a) {
                    if (e != nullptr && (e->model.empty() || e->model == options_.model)) {
                      note("control", "", describe(*e), toDrill(e->at_ms));
                    } else if (a != nullptr) {
                      note("alert", "", describe(*a), toDrill(a->seen_ms));
                    }
                  }),
      normal_bodies_(chatBodies(options.model, kPrompts)),
      drift_bodies_(chatBodies(options.model, kDriftPrompts)) {}

DrillRun::~DrillRun() { stopLoad(); }

double DrillRun::now() const { return toDrill(wallClockMs()); }

double DrillRun::toDrill(int64_t wall_ms) const {
  return static_cast<double>(wall_ms - start_ms_) / 1000.0;
}

void DrillRun::note(const std::string& kind, const std::string& fault, const std::string& text,
                    double at) {
  const double t = at >= 0 ? at : now();
  report_.timeline.push_back({t, kind, fault, text});
  if (options_.log) {
    options_.log(
        fmt::format("{:7.1f}s {:<8} {}{}", t, kind, fault.empty() ? "" : fault + ": ", text));
  }
}

void DrillRun::poll() {
  if (Status s = deployment_.poll(); !s.ok() && options_.log) {
    options_.log("poll: " + s.message());
  }
}

void DrillRun::sleepPolling(double seconds) {
  const double until = now() + seconds;
  while (now() < until) {
    poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void DrillRun::waitUntil(double from, double limit, const std::function<bool()>& done) {
  while (now() < from + limit) {
    poll();
    if (done()) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::vector<VersionView> DrillRun::versionsOr() {
  auto versions = deployment_.versions();
  return versions.ok() ? std::move(versions).value() : std::vector<VersionView>{};
}

std::optional<VersionView> DrillRun::stable() {
  std::optional<VersionView> best;
  for (VersionView& v : versionsOr()) {
    if (v.model == options_.model && v.track == "stable" && (!best || v.weight > best->weight)) {
      best = std::move(v);
    }
  }
  return best;
}

const ControlEvent* DrillRun::controlEvent(const std::set<std::string>& kinds, int64_t since_ms,
                                           const std::function<bool(const ControlEvent&)>& accept) {
  const ControlEvent* first = nullptr;
  for (const auto& [id, e] : deployment_.events()) {
    if (e.at_ms >= since_ms && kinds.count(e.kind) != 0 && e.model == options_.model &&
        (!accept || accept(e)) && (first == nullptr || e.at_ms < first->at_ms)) {
      first = &e;
    }
  }
  return first;
}

std::optional<double> DrillRun::eventOrAlert(FaultResult& result,
                                             const std::set<std::string>& kinds,
                                             const std::set<std::string>& rules, int64_t since_ms) {
  if (const ControlEvent* e = controlEvent(kinds, since_ms)) {
    result.detected_by = e->kind + ": " + e->reason;
    return toDrill(e->at_ms);
  }
  if (const AlertEventView* a = alertFired(rules, since_ms)) {
    result.detected_by = "alert " + a->rule;
    return toDrill(a->seen_ms);
  }
  return std::nullopt;
}

const AlertEventView* DrillRun::alertFired(const std::set<std::string>& rules, int64_t since_ms) {
  for (const AlertEventView& a : deployment_.alertEvents()) {
    const bool for_model =
        !a.labels.is_object() || !a.labels.contains("model") || a.labels["model"] == options_.model;
    if (a.seen_ms >= since_ms && (a.kind == "fired" || a.kind == "escalated") && for_model &&
        rules.count(a.rule) != 0) {
      return &a;
    }
  }
  return nullptr;
}

std::set<std::string> DrillRun::firingAlerts() {
  std::set<std::string> keys;
  auto active = deployment_.activeAlerts();
  if (!active.ok()) {
    return keys;
  }
  for (const json& a : *active) {
    json labels = a.value("labels", json::object());
    if (!labels.contains("model") || labels["model"] == options_.model) {
      // The same alert at another severity is the same alert (a chronic one that escalates or
      // de-escalates is still not the drill's).
      labels.erase("severity");
      keys.insert(a.value("rule", "") + " " + labels.dump());
    }
  }
  return keys;
}

bool DrillRun::alertActive(const std::set<std::string>& rules, bool new_only) {
  for (const std::string& key : firingAlerts()) {
    const std::string rule = key.substr(0, key.find(' '));
    if ((rules.empty() || rules.count(rule) != 0) &&
        (!new_only || chronic_alerts_.count(key) == 0)) {
      return true;
    }
  }
  return false;
}

double DrillRun::waitFor(const FaultSpec& spec) const {
  // A full drill waits twice the budget, so that a miss is still measured; the short drill
  // waits the budget and a little more (a miss is then reported as not recovered).
  const double budget = std::max(spec.detect_budget_s, spec.recover_budget_s);
  if (!options_.short_drill) {
    return 2 * budget;
  }
  return spec.kind == FaultKind::kReplicaLatency ? 25 : std::min(budget, 60.0) + 5;
}

void DrillRun::startLoad() {
  LoadOptions load;
  load.url = options_.gateway + "/v1/chat/completions";
  const double ramp = toSeconds(options_.ramp);
  load.rate = ramp > 0 ? std::max(1.0, options_.qps / 10) : options_.qps;
  load.ramp_to = options_.qps;
  load.ramp = ramp > 0 ? options_.ramp : Duration(std::chrono::milliseconds(1));
  load.duration = std::chrono::hours(24);  // Until stopLoad().
  load.timeout = std::chrono::seconds(30);
  load.bodies = normal_bodies_;
  if (!api_key_.empty()) {
    load.headers.emplace_back("authorization", "Bearer " + api_key_);
  }
  load_started_ = now();
  const double offset = load_started_;
  load.on_result = [this, offset](const RequestResult& r) {
    requests_.add({offset + r.started, r.seconds, r.status >= 200 && r.status < 300, r.error});
  };
  load_ = std::make_unique<LoadGenerator>(std::move(load));
  load_thread_ = std::thread([this] {
    auto result = load_->run();
    if (!result.ok()) {
      load_error_ = result.status().message();
    }
  });
}

void DrillRun::stopLoad() {
  if (load_) {
    load_->stop();
  }
  if (load_thread_.joinable()) {
    load_thread_.join();
  }
}

void DrillRun::stage(const std::string& name, double seconds) {
  note("stage", "", fmt::format("{} ({:.0f} s)", name, seconds));
  sleepPolling(seconds);
}

Status DrillRun::prepare() {
  DW_ASSIGN_OR_RETURN(std::vector<VersionView> versions, deployment_.versions());
  const bool known = std::any_of(versions.begin(), versions.end(),
                                 [&](const VersionView& v) { return v.model == options_.model; });
  if (!known) {
    return notFound(
        fmt::format("the deployment at {} has no model '{}'", options_.admin, options_.model));
  }
  DW_RETURN_IF_ERROR(deployment_.poll());  // What happened before the drill is not news.
  api_key_ = options_.api_key;
  if (api_key_.empty()) {
    auto key = deployment_.createClientKey();
    if (key.ok()) {
      api_key_ = *key;
      // A new key is known to the request path after the next publication of the access
      // snapshot: until then the traffic would be refused (401), which is not the deployment's
      // availability.
      const double asked = now();
      while (now() < asked + 10) {
        auto answer = net::httpCall("GET", options_.gateway + "/v1/models", "",
                                    std::chrono::seconds(5), api_key_);
        if (answer.ok() && answer->status == 200) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    } else {
      note("note", "", "no client key (" + key.status().message() + "): traffic without one");
    }
  }
  return okStatus();
}

void DrillRun::settle(const std::string& after) {
  // Before the next fault: the stable version whole again, no alert of the model firing (so the
  // next detection is the next fault's), and clients served without a failure for 3 s.
  const double started = now();
  const double limit = options_.short_drill ? 25 : 90;
  bool whole = false;
  waitUntil(started, limit, [&] {
    auto s = stable();
    if (!s || s->replicas.empty()) {
      return false;
    }
    for (const ReplicaView& r : s->replicas) {
      if (!r.healthy) {
        return false;
      }
    }
    whole = requests_.restoredAt(started, 3, now() - 1).has_value() && !alertActive({}, true);
    return whole;
  });
  if (!whole) {
    note("note", after,
         fmt::format("the fleet did not settle within {:.0f} s; the next fault starts anyway",
                     limit));
  }
}

StatusOr<DrillReport> DrillRun::run() {
  start_ms_ = wallClockMs();
  report_.started_ms = start_ms_;
  report_.gateway = options_.gateway;
  report_.admin = options_.admin;
  report_.short_drill = options_.short_drill;
  report_.qps = options_.qps;
  report_.ramp_s = toSeconds(options_.ramp);
  report_.hold_s = toSeconds(options_.hold);
  DW_RETURN_IF_ERROR(prepare());
  startLoad();
  stage("ramp", report_.ramp_s);
  stage("hold", report_.hold_s);
  const auto wants = [&](FaultKind kind) {
    return std::find(options_.faults.begin(), options_.faults.end(), kind) != options_.faults.end();
  };
  if (wants(FaultKind::kInputDrift)) {
    auto has = deployment_.hasBaseline(options_.model);
    if (has.ok() && !*has) {
      Status captured = deployment_.captureBaseline(options_.model);
      note("note", "",
           captured.ok() ? "drift baseline captured from the hold's traffic"
                         : "cannot capture a drift baseline: " + captured.message());
    }
  }
  if (wants(FaultKind::kDegradedQuality)) {
    // L3 needs the stable version's accuracy when it became stable, learnt from its probes.
    waitUntil(now(), options_.short_drill ? 30 : 120,
              [&] { return stable() && stable()->accuracy_when_stable.has_value(); });
  }
  chronic_alerts_ = firingAlerts();
  for (const std::string& key : chronic_alerts_) {
    note("note", "", "already firing before the faults (ignored when settling): " + key);
  }
  for (size_t i = 0; i < options_.faults.size(); ++i) {
    FaultResult result;
    result.kind = options_.faults[i];
    const std::string name(specOf(result.kind).name);
    switch (result.kind) {
      case FaultKind::kReplicaCrash:
        replicaCrash(result);
        break;
      case FaultKind::kPrimariesDown:
        primariesDown(result);
        break;
      case FaultKind::kReplicaLatency:
        replicaLatency(result);
        break;
      case FaultKind::kDegradedQuality:
        degradedQuality(result);
        break;
      case FaultKind::kInputDrift:
        inputDrift(result);
        break;
      case FaultKind::kSinkOutage:
        sinkOutage(result);
        break;
    }
    if (!result.ran) {
      note("note", name, "skipped: " + result.skip_reason);
    }
    report_.faults.push_back(std::move(result));
    if (i + 1 < options_.faults.size() && report_.faults.back().ran) {
      settle(name);
    }
  }
  stage("cooldown", options_.short_drill ? 2 : 10);
  return finish();
}

DrillReport DrillRun::finish() {
  stopLoad();
  deployment_.revokeKey();
  if (!load_error_.empty()) {
    note("note", "", "the load generator stopped: " + load_error_);
  }
  report_.duration_s = now();
  for (FaultResult& f : report_.faults) {
    if (f.ran) {
      f.requests = requests_.window(f.injected_at, f.ended_at);
    }
  }
  report_.requests = requests_.window(0, report_.duration_s + 60);
  report_.seconds = requests_.perSecond(report_.duration_s);
  std::stable_sort(report_.timeline.begin(), report_.timeline.end(),
                   [](const TimelineEvent& a, const TimelineEvent& b) { return a.t < b.t; });
  evaluateBudgets(report_);
  return std::move(report_);
}

}  // namespace dw::control::drill
