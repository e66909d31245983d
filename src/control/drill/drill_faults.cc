// The six faults of the drill: how each is injected, what counts as its detection and its
// recovery (drill_plan.h states them for the report), and how the fleet is restored after it.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "control/drill/drill_run.h"

namespace dw::control::drill {

using json = nlohmann::json;

namespace {

std::string replicaName(const VersionView& v, const std::string& url) {
  return fmt::format("{} {} replica {}", v.model, v.version, url);
}

const ReplicaView* firstHealthy(const VersionView& v) {
  for (const ReplicaView& r : v.replicas) {
    if (r.healthy) {
      return &r;
    }
  }
  return nullptr;
}

// A sample of `<name>{labels} value` in a Prometheus text exposition; 0 when absent.
double sampleValue(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    if (text.compare(at, prefix.size(), prefix) == 0) {
      return std::atof(text.c_str() + at + prefix.size());
    }
    at = end + 1;
  }
  return 0;
}

// The ejections of `replica` for `reason` by the gateway's workers, summed over the series of
// `<ns>_upstream_ejections_total` that name it (one per version the replica serves).
double ejectionsOf(const std::string& text, const std::string& ns, const std::string& replica,
                   const std::string& reason) {
  const std::string name = ns + "_upstream_ejections_total{";
  const std::string replica_label = "replica=\"" + replica + "\"";
  const std::string reason_label = "reason=\"" + reason + "\"";
  double total = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line(text.data() + at, end - at);
    const size_t close = line.rfind('}');
    if (line.starts_with(name) && close != std::string_view::npos) {
      const std::string_view labels = line.substr(0, close + 1);
      if (labels.find(replica_label) != std::string_view::npos &&
          labels.find(reason_label) != std::string_view::npos) {
        total += std::atof(std::string(line.substr(close + 1)).c_str());
      }
    }
    at = end + 1;
  }
  return total;
}

}  // namespace

void DrillRun::detectAndRecover(FaultResult& result,
                                const std::function<std::optional<double>()>& detect,
                                const std::function<std::optional<double>()>& recover) {
  const FaultSpec& spec = specOf(result.kind);
  const std::string name(spec.name);
  result.waited_s = waitFor(spec);
  waitUntil(result.injected_at, result.waited_s, [&] {
    if (!result.detect_s) {
      if (auto t = detect()) {
        result.detect_s = std::max(0.0, *t - result.injected_at);
        note("detect", name,
             fmt::format("after {:.1f} s: {}", *result.detect_s, result.detected_by), *t);
      }
    }
    if (!result.recover_s) {
      if (auto t = recover()) {
        result.recover_s = std::max(0.0, *t - result.injected_at);
        note("recover", name,
             fmt::format("after {:.1f} s: {}", *result.recover_s, result.recovered_by), *t);
      }
    }
    return result.detect_s.has_value() && result.recover_s.has_value();
  });
  if (!result.detect_s) {
    note("note", name, fmt::format("not detected within {:.0f} s", result.waited_s));
  }
  if (!result.recover_s) {
    note("note", name, fmt::format("not recovered within {:.0f} s", result.waited_s));
  }
}

std::optional<DrillRun::ReplicaTarget> DrillRun::stableReplica(FaultResult& result,
                                                               std::string_view skip_reason) {
  const std::optional<VersionView> version = stable();
  const ReplicaView* replica = version ? firstHealthy(*version) : nullptr;
  if (replica == nullptr) {
    result.skip_reason = std::string(skip_reason);
    return std::nullopt;
  }
  return ReplicaTarget{replica->url, replicaName(*version, replica->url)};
}

void DrillRun::replicaCrash(FaultResult& result) {
  const std::string name(specOf(result.kind).name);
  const std::optional<ReplicaTarget> target =
      stableReplica(result, "the stable version has no healthy replica");
  if (!target) {
    return;
  }
  const std::string& url = target->url;
  const int port = portOf(url);
  result.ran = true;
  result.target = target->name;
  result.injected_at = now();
  const int64_t inject_ms = wallClockMs();
  note("inject", name, "POST /fault {\"crash\":\"now\"} to " + result.target);
  (void)deployment_.fault(url, {{"crash", "now"}});
  auto same_port = [port](const ControlEvent& e) {
    return e.details.is_object() && e.details.value("port", 0) == port;
  };
  detectAndRecover(
      result,
      [&]() -> std::optional<double> {
        if (const ControlEvent* e = controlEvent({"l1_restart"}, inject_ms, same_port)) {
          result.detected_by = "l1_restart: " + e->reason;
          return toDrill(e->at_ms);
        }
        if (const AlertEventView* a = alertFired({"ReplicaDown"}, inject_ms)) {
          result.detected_by = "alert ReplicaDown";
          return toDrill(a->seen_ms);
        }
        return std::nullopt;
      },
      [&]() -> std::optional<double> {
        const ControlEvent* e = controlEvent({"l1_restart"}, inject_ms, same_port);
        if (e == nullptr || e->details.value("state", "") != "recovered") {
          return std::nullopt;
        }
        const double recovery = e->details.value("recovery_seconds", 0.0);
        result.recovered_by = fmt::format(
            "l1_restart: restarted in {:.1f} s, back in rotation {:.1f} s after it died",
            e->details.value("restart_seconds", 0.0), recovery);
        return toDrill(e->at_ms) + recovery;
      });
  result.ended_at = now();
}

void DrillRun::primariesDown(FaultResult& result) {
  const std::string name(specOf(result.kind).name);
  std::vector<std::string> urls;
  bool standby = false;
  for (const VersionView& v : versionsOr()) {
    if (v.model != options_.model) {
      continue;
    }
    if (v.track == "standby" && firstHealthy(v) != nullptr) {
      standby = true;
    } else if (v.track != "standby" && v.weight > 0) {
      for (const ReplicaView& r : v.replicas) {
        urls.push_back(r.url);
      }
    }
  }
  if (urls.empty() || !standby) {
    result.skip_reason = urls.empty() ? "no primary replica"
                                      : "no standby version with a healthy "
                                        "replica to take over";
    return;
  }
  result.ran = true;
  result.target = fmt::format("{} primary replica(s) of {}", urls.size(), options_.model);
  result.injected_at = now();
  const int64_t inject_ms = wallClockMs();
  note("inject", name, "POST /fault {\"unavailable\":true} to " + result.target);
  for (const std::string& url : urls) {
    if (Status s = deployment_.fault(url, {{"unavailable", true}}); !s.ok()) {
      result.notes.push_back(s.message());
    }
  }
  detectAndRecover(
      result,
      [&]() {
        return eventOrAlert(result, {"l2_takeover"}, {"ReplicaDown", "ErrorRatioHigh"}, inject_ms);
      },
      [&]() -> std::optional<double> {
        const ControlEvent* e = controlEvent({"l2_takeover"}, inject_ms);
        if (e == nullptr) {
          return std::nullopt;
        }
        auto served = requests_.restoredAt(result.injected_at, 3, now() - 1);
        if (!served) {
          return std::nullopt;
        }
        const double at = std::max(toDrill(e->at_ms), *served);
        result.recovered_by = fmt::format(
            "{} took the traffic at {:.1f} s; every client request succeeds from "
            "{:.1f} s",
            e->version, toDrill(e->at_ms) - result.injected_at, *served - result.injected_at);
        return at;
      });
  for (const std::string& url : urls) {
    (void)deployment_.fault(url, {{"clear", true}});
  }
  note("restore", name, "faults cleared on the primaries");
  const double cleared = now();
  waitUntil(cleared, 30, [&] { return controlEvent({"l2_restored"}, inject_ms) != nullptr; });
  if (controlEvent({"l2_restored"}, inject_ms) == nullptr) {
    result.notes.push_back("no l2_restored event within 30 s of clearing the fault");
  }
  result.ended_at = now();
}

void DrillRun::replicaLatency(FaultResult& result) {
  const std::string name(specOf(result.kind).name);
  const std::optional<ReplicaTarget> target =
      stableReplica(result, "the stable version has no healthy replica");
  if (!target) {
    return;
  }
  const std::string& url = target->url;
  const std::string latency = formatDuration(options_.latency);
  // The gateway's workers eject a replica whose latency stands out from its peers'
  // (docs/design/outlier-detection.md): an ejection of this replica for latency names the fault.
  auto latency_ejections = [&] {
    auto text = deployment_.metrics();
    return text.ok() ? ejectionsOf(*text, options_.ns, url, "latency") : 0.0;
  };
  const double ejections_before = latency_ejections();
  if (const std::optional<VersionView> version = stable();
      version && version->replicas.size() < 2) {
    result.notes.push_back(fmt::format(
        "{} {} has one replica: there is no peer to compare its latency with, and nowhere else "
        "to send its traffic",
        version->model, version->version));
  }
  result.ran = true;
  result.target = target->name;
  result.injected_at = now();
  const int64_t inject_ms = wallClockMs();
  note("inject", name,
       fmt::format("POST /fault {{\"latency\":\"{}\"}} to {}", latency, result.target));
  if (Status s = deployment_.fault(url, {{"latency", latency}}); !s.ok()) {
    result.notes.push_back(s.message());
  }
  // P99 over a sliding window of client requests, judged only on requests that had time to
  // answer (the slow ones take `latency`).
  const double window = options_.short_drill ? 5 : 10;
  const double settle = toSeconds(options_.latency) + 1;
  detectAndRecover(
      result,
      [&]() -> std::optional<double> {
        if (const AlertEventView* a = alertFired({"LatencyP99High"}, inject_ms)) {
          result.detected_by = fmt::format("alert LatencyP99High ({})", a->severity);
          return toDrill(a->seen_ms);
        }
        if (const double ejections = latency_ejections(); ejections > ejections_before) {
          result.detected_by =
              fmt::format("the gateway ejected {} for latency ({} ejection(s) by its workers)", url,
                          ejections - ejections_before);
          return now();
        }
        return std::nullopt;
      },
      [&]() -> std::optional<double> {
        // Judged from the detection on: a quiet window before the fault took hold (the slow
        // replica not picked yet) is not a recovery.
        if (!result.detect_s) {
          return std::nullopt;
        }
        auto at = requests_.latencyBelowAt(result.injected_at + *result.detect_s, window, 0.8, 5,
                                           now() - settle);
        if (at) {
          result.recovered_by = fmt::format(
              "P99 of the client requests over {:.0f} s at or under 0.8 s with the fault in place",
              window);
        }
        return at;
      });
  const WindowStats during = requests_.window(result.injected_at, now() - settle);
  result.notes.push_back(
      fmt::format("P99 of client requests while injected: {:.3f} s", during.p99));
  const double ejections = latency_ejections() - ejections_before;
  result.notes.push_back(fmt::format(
      "{} ejection(s) of the slow replica for latency by the gateway's workers", ejections));
  if (!result.detect_s) {
    result.notes.push_back("never detected, so no recovery was measured");
  } else if (!result.recover_s) {
    result.notes.push_back(
        ejections > 0 ? "the slow replica was ejected, but the clients' P99 stayed above 0.8 s"
                      : "the gateway kept sending requests to the slow replica: no worker "
                        "ejected it for latency");
  }
  (void)deployment_.fault(url, {{"clear", true}});
  note("restore", name, "latency cleared on " + url);
  result.ended_at = now();
}

void DrillRun::degradedQuality(FaultResult& result) {
  const std::string name(specOf(result.kind).name);
  auto version = stable();
  if (!version || version->replicas.empty()) {
    result.skip_reason = "no stable version with replicas";
    return;
  }
  if (!version->accuracy_when_stable) {
    result.skip_reason = fmt::format(
        "the reference accuracy of {} {} (from its probes) is not known, so an accuracy drop "
        "cannot be judged (are probes configured?)",
        version->model, version->version);
    return;
  }
  const std::string original = version->version;
  result.ran = true;
  result.target = fmt::format("every replica of {} {} (accuracy when stable {:.3f})",
                              version->model, original, *version->accuracy_when_stable);
  result.injected_at = now();
  const int64_t inject_ms = wallClockMs();
  note("inject", name, "POST /fault {\"quality\":\"degraded\"} to " + result.target);
  for (const ReplicaView& r : version->replicas) {
    if (Status s = deployment_.fault(r.url, {{"quality", "degraded"}}); !s.ok()) {
      result.notes.push_back(s.message());
    }
  }
  detectAndRecover(
      result,
      [&]() {
        return eventOrAlert(result, {"l3_rollback", "l3_no_target"},
                            {"LabelDrift", "LowConfidenceRatioHigh"}, inject_ms);
      },
      [&]() -> std::optional<double> {
        const ControlEvent* e = controlEvent({"l3_rollback"}, inject_ms);
        if (e == nullptr) {
          return std::nullopt;
        }
        result.recovered_by = fmt::format("l3_rollback from {} to {}", e->version,
                                          e->details.value("to", std::string("?")));
        return toDrill(e->at_ms);
      });
  for (const ReplicaView& r : version->replicas) {
    (void)deployment_.fault(r.url, {{"clear", true}});
  }
  note("restore", name, "quality restored on " + original);
  // Its recent probes must be good ones again before it takes the traffic back, or L3 would
  // judge it on the degraded ones and roll it back once more.
  sleepPolling(options_.short_drill ? 4 : 20);
  auto now_stable = stable();
  if (now_stable && now_stable->version != original) {
    Status s = deployment_.rollback(options_.model, original,
                                    "deepwatch drill: restore the stable version");
    note("restore", name,
         s.ok() ? "rolled back to " + original + " by hand" : "cannot restore: " + s.message());
    waitUntil(now(), 15, [&] {
      auto v = stable();
      return v && v->version == original;
    });
  }
  result.ended_at = now();
}

void DrillRun::inputDrift(FaultResult& result) {
  const std::string name(specOf(result.kind).name);
  auto has = deployment_.hasBaseline(options_.model);
  if (!has.ok() || !*has) {
    result.skip_reason = has.ok() ? "the model has no drift baseline" : has.status().message();
    return;
  }
  if (!load_) {
    result.skip_reason = "no load";
    return;
  }
  result.ran = true;
  result.target = fmt::format("the input of {}: classical Chinese poetry only", options_.model);
  result.injected_at = now();
  const int64_t inject_ms = wallClockMs();
  note("inject", name, "the clients switch to " + result.target);
  load_->setBodies(drift_bodies_);
  std::optional<double> returned;
  const std::set<std::string> rule = {"InputDistributionShift"};
  detectAndRecover(
      result,
      [&]() -> std::optional<double> {
        if (const AlertEventView* a = alertFired(rule, inject_ms)) {
          result.detected_by = fmt::format("alert InputDistributionShift ({})", a->severity);
          if (!returned) {
            // Detected: the input goes back, and the alert must resolve by itself.
            load_->setBodies(normal_bodies_);
            returned = now();
            note("restore", name, "the clients' input is back to the usual mix");
          }
          return toDrill(a->seen_ms);
        }
        return std::nullopt;
      },
      [&]() -> std::optional<double> {
        if (!returned || alertActive(rule)) {
          return std::nullopt;
        }
        result.recovered_by =
            fmt::format("the alert resolved {:.1f} s after the input returned", now() - *returned);
        return now();
      });
  if (!returned) {
    load_->setBodies(normal_bodies_);
    note("restore", name, "the clients' input is back to the usual mix");
  }
  result.ended_at = now();
}

void DrillRun::sinkOutage(FaultResult& result) {
  const std::string name(specOf(result.kind).name);
  if (!options_.own_sink || sink_ == nullptr) {
    result.skip_reason =
        "the gateway's alert sink is not the drill's (run with --start-demo, or configure an "
        "alertmanager sink at the drill's --sink-port)";
    return;
  }
  const std::optional<ReplicaTarget> target =
      stableReplica(result, "the stable version has no healthy replica to raise an alert with");
  if (!target) {
    return;
  }
  const std::string& url = target->url;
  const std::string failed_series =
      fmt::format("{}_alert_notifications_total{{sink=\"{}\",result=\"failed\"}}", options_.ns,
                  options_.sink_name);
  auto metrics = [this] {
    auto text = deployment_.metrics();
    return text.ok() ? std::move(text).value() : std::string();
  };
  const double failed_before = sampleValue(metrics(), failed_series);
  result.ran = true;
  result.target = fmt::format("the alert sink on port {} (ReplicaDown raised on {})", sink_->port(),
                              target->name);
  result.injected_at = now();
  const int64_t inject_ms = wallClockMs();
  sink_->stop();
  note("inject", name, "the sink stops listening; POST /fault {\"unavailable\":true} to " + url);
  (void)deployment_.fault(url, {{"unavailable", true}});
  std::optional<int64_t> back_ms;
  std::set<std::string> fired_during;
  detectAndRecover(
      result,
      [&]() -> std::optional<double> {
        const double failed = sampleValue(metrics(), failed_series);
        if (failed <= failed_before) {
          return std::nullopt;
        }
        result.detected_by =
            fmt::format("{} failed deliveries to the sink counted", failed - failed_before);
        return now();
      },
      [&]() -> std::optional<double> {
        if (!result.detect_s) {
          return std::nullopt;
        }
        if (!back_ms) {
          if (now() < result.injected_at + *result.detect_s + 3) {
            return std::nullopt;  // A few more failed attempts: they must wait in the outbox.
          }
          for (const AlertEventView& a : deployment_.alertEvents()) {
            if (a.seen_ms >= inject_ms && (a.kind == "fired" || a.kind == "escalated")) {
              fired_during.insert(a.rule);
            }
          }
          if (fired_during.empty()) {
            // The failed delivery may be an older alert's resend: the outage lasts until an
            // alert fires into it (ReplicaDown, raised above), or there is nothing to lose.
            return std::nullopt;
          }
          if (Status s = sink_->start(); !s.ok()) {
            result.notes.push_back("the sink could not listen again: " + s.message());
            return std::nullopt;
          }
          back_ms = wallClockMs();
          note("restore", name, "the sink listens again");
          (void)deployment_.fault(url, {{"clear", true}});
          return std::nullopt;
        }
        // Every alert that fired during the outage must arrive.
        std::set<std::string> missing = fired_during;
        int64_t last = 0;
        for (const SinkDelivery& d : sink_->received()) {
          if (d.at_ms < *back_ms) {
            continue;
          }
          for (auto it = missing.begin(); it != missing.end();) {
            if (d.body.find("\"" + *it + "\"") != std::string::npos) {
              last = std::max(last, d.at_ms);
              it = missing.erase(it);
            } else {
              ++it;
            }
          }
        }
        if (!missing.empty() || fired_during.empty()) {
          return std::nullopt;
        }
        result.recovered_by = fmt::format(
            "{} alert(s) that fired during the outage delivered {:.1f} s after the sink was back",
            fired_during.size(), static_cast<double>(last - *back_ms) / 1000.0);
        return toDrill(last);
      });
  if (!back_ms) {
    (void)sink_->start();
    (void)deployment_.fault(url, {{"clear", true}});
    note("restore", name, "the sink listens again");
  }
  if (fired_during.empty()) {
    result.notes.push_back("no alert fired during the outage");
  }
  result.ended_at = now();
}

}  // namespace dw::control::drill
