#include "control/controller.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/log.h"
#include "net/http_client.h"
#include "security/audit_mirror.h"

namespace dw::control {

using json = nlohmann::ordered_json;
using gateway::Track;

namespace {

double secondsBetween(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

gateway::Gateway::AdminReply reply(int status, const json& body) { return {status, dump(body)}; }

gateway::Gateway::AdminReply error(const Status& status) {
  return {httpStatusFor(status.code()),
          dump({{"error",
                 {{"message", status.message()},
                  {"type", "invalid_request_error"},
                  {"param", nullptr},
                  {"code", std::string(statusCodeName(status.code()))}}}})};
}

// One-sided two-proportion z statistic: how many standard errors `a` is above `b`.
double zStatistic(double a, double n_a, double b, double n_b) {
  const double pooled = (a * n_a + b * n_b) / (n_a + n_b);
  const double se = std::sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b));
  return se > 0 ? (a - b) / se : (a > b ? INFINITY : 0);
}

// The z value a one-sided test at `confidence` must exceed (0.95 -> 1.645).
double criticalZ(double confidence) {
  // Acklam-free: a few fixed points cover the useful range; interpolate between them.
  static constexpr std::pair<double, double> kTable[] = {
      {0.5, 0},      {0.8, 0.8416},  {0.9, 1.2816},   {0.95, 1.6449},
      {0.975, 1.96}, {0.99, 2.3263}, {0.999, 3.0902}, {0.9999, 3.719}};
  for (size_t i = 1; i < std::size(kTable); ++i) {
    if (confidence <= kTable[i].first) {
      const auto [c0, z0] = kTable[i - 1];
      const auto [c1, z1] = kTable[i];
      return z0 + (z1 - z0) * (confidence - c0) / (c1 - c0);
    }
  }
  return 3.719;
}

const gateway::VersionRoute* findVersion(const gateway::ModelRoute& model, const std::string& id) {
  for (const auto& v : model.versions) {
    if (v.id == id) {
      return &v;
    }
  }
  return nullptr;
}

// Whether nothing listens on 127.0.0.1:port (another program, or a replica of an earlier run),
// so that a launched replica does not fail to bind and restart forever.
bool portFree(uint16_t port) {
  net::error_code ec;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io);
  acceptor.open(asio::ip::tcp::v4(), ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind({asio::ip::make_address_v4("127.0.0.1"), port}, ec);
  return !ec;
}

std::string stableOf(const gateway::ModelRoute& model) {
  const gateway::VersionRoute* best = nullptr;
  for (const auto& v : model.versions) {
    if (v.track == Track::kStable && (best == nullptr || v.weight > best->weight)) {
      best = &v;
    }
  }
  return best == nullptr ? "" : best->id;
}

}  // namespace

struct Controller::Rollout {
  std::string model;
  std::string candidate;
  std::string baseline;  // The stable version when the rollout began.
  bool direct = false;
  std::string state = "loading";  // loading, canary, paused, promoted, rolled_back, aborted, failed
  size_t step = 0;
  SteadyClock::time_point started;
  SteadyClock::time_point step_started;
  int failed_analyses = 0;
  std::string actor;
  std::string reason;
  std::string last_analysis;
  int64_t event_id = 0;
  std::string saved;  // The document last stored (state_); written again only when it changes.
  bool done() const {
    return state == "promoted" || state == "rolled_back" || state == "aborted" || state == "failed";
  }
};

struct Controller::PendingRestart {
  std::string model;
  std::string version;
  SteadyClock::time_point died;
  SteadyClock::time_point restarted{};
  int64_t event_id = 0;
};

Controller::Controller(ControlConfig config, gateway::Gateway& gateway)
    : config_(std::move(config)), gateway_(gateway) {}

Controller::~Controller() = default;

StatusOr<std::unique_ptr<Controller>> Controller::create(ControlConfig config,
                                                         gateway::Gateway& gateway) {
  std::unique_ptr<Controller> controller(new Controller(std::move(config), gateway));
  std::map<std::string, std::vector<ProbeCase>> cases;
  for (const ProbeConfig& probe : controller->config_.probes) {
    DW_ASSIGN_OR_RETURN(cases[probe.model], loadGoldenSet(probe.file));
  }
  controller->prober_ = std::make_unique<Prober>(gateway.controlContext(),
                                                 controller->config_.probes, std::move(cases));
  DW_ASSIGN_OR_RETURN(auto history, store::MetricsHistory::open(gateway.database()));
  controller->history_ = std::make_unique<HistoryRecorder>(
      gateway, *controller->prober_, std::move(history), controller->config_.history_interval);
  DW_ASSIGN_OR_RETURN(controller->reports_, ReportScheduler::create(gateway));
  Controller* self = controller.get();
  controller->experiments_ = std::make_unique<Experiments>(
      gateway, *controller->prober_, [self](const std::string& model) -> std::string {
        auto it = self->rollouts_.find(model);
        return it != self->rollouts_.end() && !it->second->done()
                   ? "a rollout of '" + model + "' is in progress"
                   : "";
      });
  if (controller->config_.cluster.enabled()) {
    controller->cluster_ = std::make_unique<Cluster>(gateway, controller->config_.cluster);
  }
  controller->reports_->setExperimentSource([self](int64_t from_ms, int64_t to_ms) {
    return self->experiments_->forReport(from_ms, to_ms);
  });
  controller->supervisor_ = std::make_unique<Supervisor>(gateway.config().state_dir + "/logs");
  DW_ASSIGN_OR_RETURN(auto store, store::ControlStore::open(gateway.database()));
  controller->store_.emplace(std::move(store));
  if (controller->cluster_) {
    controller->state_ = controller->cluster_->stateStore();
    // R8/R9: every audit entry of this gateway is in etcd too before it is acknowledged.
    const ClusterConfig& cluster = controller->cluster_->config();
    gateway.audit().setMirror(security::makeEtcdAuditMirror(
        {.endpoints = cluster.etcd, .prefix = cluster.prefix, .instance = cluster.name}));
  } else {
    DW_ASSIGN_OR_RETURN(controller->state_, store::openSqliteStateStore(gateway.database()));
  }
  for (const auto& model : gateway.config().models) {
    for (const auto& version : model.versions) {
      if (version.autoscale.enabled) {
        controller->autoscalers_.emplace(std::make_pair(model.name, version.id),
                                         Autoscaler(version.autoscale));
      }
    }
  }
  return controller;
}

void Controller::attach() {
  gateway_.addTickHook([this](std::chrono::system_clock::time_point now) { tick(now); });
  gateway_.addReloadHook([this](const gateway::GatewayConfig&, gateway::GatewayConfig& loaded) {
    addLaunched(loaded);
  });
  gateway_.addAdminRoute(
      "/admin/v1/versions",
      [this](const net::Request& r, const gateway::AdminCaller& c) { return handleAdmin(r, c); });
  gateway_.addAdminRoute(
      "/admin/v1/rollouts",
      [this](const net::Request& r, const gateway::AdminCaller& c) { return handleAdmin(r, c); });
  gateway_.addAdminRoute(
      "/admin/v1/events",
      [this](const net::Request& r, const gateway::AdminCaller& c) { return handleAdmin(r, c); });
  gateway_.addAdminRoute(
      "/admin/v1/rollback",
      [this](const net::Request& r, const gateway::AdminCaller& c) { return handleAdmin(r, c); });
  gateway_.addAdminRoute(
      "/admin/v1/settings",
      [this](const net::Request& r, const gateway::AdminCaller& c) { return handleAdmin(r, c); });
  gateway_.addAdminRoute(
      "/admin/v1/scale",
      [this](const net::Request& r, const gateway::AdminCaller& c) { return handleAdmin(r, c); });
  gateway_.addAdminRoute(
      "/admin/v1/reports",
      [this](const net::Request& r, const gateway::AdminCaller&) { return reports_->handle(r); });
  gateway_.addAdminRoute("/admin/v1/experiments",
                         [this](const net::Request& r, const gateway::AdminCaller& c) {
                           return experiments_->handle(r, c.actor.empty() ? "admin" : c.actor);
                         });
  if (cluster_) {
    cluster_->attach();
    gateway_.addAdminRoute(
        "/admin/v1/cluster",
        [this](const net::Request&, const gateway::AdminCaller&) { return cluster_->handle(); });
  }
  gateway_.addMetricsSource([this](observe::ExpositionWriter& w) { writeMetrics(w); });
}

void Controller::start() {
  started_ = true;
  if (cluster_) {
    cluster_->start();
  }
  supervisor_->setListener([this](const ManagedProcess& process, bool died) {
    if (died) {
      auto pending = std::make_unique<PendingRestart>();
      pending->model = process.spec.model;
      pending->version = process.spec.version;
      pending->died = process.died;
      pending->event_id =
          event("l1_restart", process.spec.model, process.spec.version, "controller",
                fmt::format("replica on port {} died", process.spec.port),
                dump({{"port", process.spec.port}, {"state", "restarting"}}));
      restarts_[process.spec.port] = std::move(pending);
    } else if (auto it = restarts_.find(process.spec.port); it != restarts_.end()) {
      it->second->restarted = SteadyClock::now();
    }
  });
  // Initial registry states from the configuration, unless the registry knows better.
  std::map<std::pair<std::string, std::string>, std::string> known;
  if (auto rows = store_->versions(); rows.ok()) {
    for (const auto& row : *rows) {
      known[{row.model, row.version}] = row.state;
    }
  }
  // A copy: launching replicas republishes (replaces) the gateway's configuration.
  const std::vector<gateway::ModelConfig> models = gateway_.config().models;
  for (const auto& model : models) {
    for (const auto& version : model.versions) {
      if (!known.count({model.name, version.id})) {
        setState(model.name, version.id, std::string(gateway::trackName(version.track)),
                 "controller", "configured");
      }
      if (version.launch.enabled()) {
        int count = version.launch.replicas;
        if (version.autoscale.enabled) {
          count = std::max(count, version.autoscale.min_replicas);
        }
        if (Status s = launchReplicas(model.name, version.id, count); !s.ok()) {
          DW_LOG_ERROR("cannot launch {} {}: {}", model.name, version.id, s.message());
        }
      }
    }
  }
  if (!cluster_) {
    // One gateway: a rollout it was running before it stopped goes on from its step. In a
    // cluster, the instance that gains the lead does this (tick()).
    (void)loadRollouts();
  }
  poll_timer_ = std::make_unique<asio::steady_timer>(gateway_.controlContext());
  poll();
  prober_->start([this] { return gateway_.routes(); });
}

void Controller::poll() {
  supervisor_->poll();
  poll_timer_->expires_after(std::chrono::milliseconds(200));
  poll_timer_->async_wait([this](const net::error_code& ec) {
    if (!ec) {
      poll();
    }
  });
}

void Controller::stopProcesses() {
  prober_->stop();
  supervisor_->stopAll(std::chrono::seconds(3));
}

Status Controller::launchReplicas(const std::string& model, const std::string& version, int count) {
  const gateway::VersionConfig* config = nullptr;
  for (const auto& m : gateway_.config().models) {
    for (const auto& v : m.versions) {
      if (m.name == model && v.id == version) {
        config = &v;
      }
    }
  }
  if (config == nullptr || !config->launch.enabled()) {
    return failedPrecondition(fmt::format("{} {} is not launched by deepwatch", model, version));
  }
  auto& ports = launched_[{model, version}];
  for (int i = 0; i < count; ++i) {
    uint16_t port = 0;
    for (uint32_t p = config->launch.port_first; p <= config->launch.port_last; ++p) {
      if (!supervisor_->has(static_cast<uint16_t>(p)) && portFree(static_cast<uint16_t>(p))) {
        port = static_cast<uint16_t>(p);
        break;
      }
    }
    if (port == 0) {
      return resourceExhausted(fmt::format("no free port for {} {}", model, version));
    }
    DW_RETURN_IF_ERROR(supervisor_->launch({model, version, port, config->launch.command}));
    ports.push_back(port);
  }
  return publishReplicaSets();
}

Status Controller::stopReplicas(const std::string& model, const std::string& version, int count) {
  auto& ports = launched_[{model, version}];
  std::vector<uint16_t> stopping;
  for (int i = 0; i < count && !ports.empty(); ++i) {
    stopping.push_back(ports.back());
    ports.pop_back();
  }
  // Out of the routing first, so no new request goes there; then stopped (it drains).
  DW_RETURN_IF_ERROR(publishReplicaSets());
  for (uint16_t port : stopping) {
    supervisor_->stop(port, std::chrono::seconds(5));
  }
  return okStatus();
}

void Controller::addLaunched(gateway::GatewayConfig& config) const {
  for (auto& model : config.models) {
    for (auto& version : model.versions) {
      auto it = launched_.find({model.name, version.id});
      if (it == launched_.end()) {
        continue;
      }
      std::erase_if(version.replicas, [&](const gateway::ReplicaConfig& r) {
        return r.host == "127.0.0.1" && r.port >= version.launch.port_first &&
               r.port <= version.launch.port_last;
      });
      for (uint16_t port : it->second) {
        version.replicas.push_back(gateway::launchedReplica(port, version.launch.zone));
      }
    }
  }
}

Status Controller::publishReplicaSets() {
  return gateway_.mutate([this](gateway::GatewayConfig& config) {
    addLaunched(config);
    return okStatus();
  });
}

void Controller::setState(const std::string& model, const std::string& version,
                          const std::string& state, const std::string& actor,
                          const std::string& reason, double accuracy) {
  if (Status s = store_->setState(model, version, state, actor, reason, wallClockMs(), accuracy);
      !s.ok()) {
    DW_LOG_ERROR("registry: {}", s.message());
  }
}

int64_t Controller::event(const std::string& kind, const std::string& model,
                          const std::string& version, const std::string& actor,
                          const std::string& reason, const std::string& details) {
  auto id = store_->addEvent({0, wallClockMs(), kind, model, version, actor, reason, details});
  if (!in_admin_) {
    // R8: what the controller does on its own is audited here; what a person asks for is
    // audited by the gateway around the admin request.
    security::AuditRecord record;
    record.actor = actor;
    record.actor_kind =
        actor == "controller" ? security::ActorKind::kController : security::ActorKind::kPerson;
    record.operation = kind;
    record.target = model.empty() ? kind : model + (version.empty() ? "" : ":" + version);
    record.reason = reason;
    record.rbac_reason = "the controller acts on its own policy";
    json parsed = json::parse(details, nullptr, false);
    if (parsed.is_object()) {
      if (parsed.contains("from") && parsed["from"].is_string()) {
        record.version_before = parsed["from"].get<std::string>();
      }
      if (parsed.contains("to") && parsed["to"].is_string()) {
        record.version_after = parsed["to"].get<std::string>();
      }
    }
    static const std::set<std::string> kAssessed = {
        "l2_takeover", "l3_rollback", "promote", "canary_rollback", "scale", "canary_step"};
    (void)gateway_.audit().record(record, kAssessed.count(kind) != 0 ? model : "");
  }
  {
    std::lock_guard lock(metrics_mutex_);
    ++events_total_[kind];
  }
  DW_LOG_WARN("control: {} {} {}: {}", kind, model, version, reason);
  return id.ok() ? *id : 0;
}

std::string Controller::metricsJson(const std::string& model, const std::string& version) const {
  json out = json::object();
  auto snapshot = gateway_.observed();
  if (snapshot) {
    for (const auto& s : snapshot->series) {
      if (s.name.model == model && (version.empty() || s.name.version == version) &&
          !s.windows.empty()) {
        const auto& w = s.windows[0];
        out[s.name.version] = {
            {"qps", w.qps},
            {"p99_seconds", std::isnan(w.p99) ? json(nullptr) : json(w.p99)},
            {"error_ratio", std::isnan(w.error_ratio) ? json(nullptr) : json(w.error_ratio)},
            {"requests", w.requests}};
      }
    }
  }
  for (const auto& [key, acc] : accuracy_) {
    if (key.first == model && out.contains(key.second) && acc.total > 0) {
      out[key.second]["accuracy"] = acc.value();
    }
  }
  return dump(out);
}

void Controller::tick(std::chrono::system_clock::time_point now) {
  if (!started_) {
    start();
  }
  history_->tick(now);  // R6: the rollups the weekly report reads.
  // Several gateways (R9): each supervises its own processes; the fleet's maintenance is the
  // elected leader's alone.
  const bool leading = cluster_ == nullptr || cluster_->leader();
  if (leading) {
    reports_->tick(now);  // R6: the weekly report, on Mondays.
  }
  {
    std::lock_guard lock(metrics_mutex_);
    accuracy_.clear();
    for (const auto& key : prober_->versions()) {
      accuracy_[key] = prober_->accuracy(key.first, key.second);
      unanswered_[key] = prober_->unanswered(key.first, key.second);
    }
    running_.clear();
    for (const auto& [port, process] : supervisor_->processes()) {
      running_[{process.spec.model, process.spec.version}] += process.running ? 1 : 0;
    }
  }
  checkRestarts();
  if (!leading) {
    was_leading_ = false;
    return;
  }
  if (cluster_ && !was_leading_) {
    // This instance has just become the leader: the rollouts are where the last leader stored
    // them, whatever this instance saw before (R9: a new leader resumes a canary).
    was_leading_ = loadRollouts();
    if (!was_leading_) {
      return;  // The store cannot be read yet: acting on stale rollouts could undo a step.
    }
  }
  checkStandby();
  checkAccuracy();
  for (auto& [model, rollout] : rollouts_) {
    if (!rollout->done()) {
      advance(*rollout);
    }
    (void)saveRollout(*rollout);
  }
  autoscale();
}

void Controller::checkRestarts() {
  // L1: a restarted replica is back in rotation once its health check passes after the restart.
  auto table = gateway_.routes();
  for (auto it = restarts_.begin(); it != restarts_.end();) {
    PendingRestart& pending = *it->second;
    bool back = false;
    if (pending.restarted != SteadyClock::time_point{}) {
      for (const auto& model : table->models()) {
        for (const auto& version : model->versions) {
          for (const auto& replica : version.replicas) {
            if (replica->port == it->first && replica->host == "127.0.0.1" &&
                replica->healthy.load() &&
                replica->last_check_ok_ns.load() > pending.restarted.time_since_epoch().count()) {
              back = true;
            }
          }
        }
      }
    }
    if (!back) {
      ++it;
      continue;
    }
    const auto now = SteadyClock::now();
    const double seconds = secondsBetween(pending.died, now);
    (void)store_->updateEvent(
        pending.event_id,
        dump(
            {{"port", it->first},
             {"state", "recovered"},
             {"restart_seconds", secondsBetween(pending.died, pending.restarted)},
             {"recovery_seconds", seconds},
             {"budget_seconds", 30},
             {"after", json::parse(metricsJson(pending.model, pending.version), nullptr, false)}}));
    DW_LOG_INFO("L1: replica on port {} back in rotation {:.2f} s after it died", it->first,
                seconds);
    it = restarts_.erase(it);
  }
}

void Controller::checkStandby() {
  // L2: every primary replica down and a standby taking the traffic (the routing does it per
  // request; this records when it started and ended).
  auto table = gateway_.routes();
  for (const auto& model : table->models()) {
    bool primary = false;
    std::string standby;
    for (const auto& version : model->versions) {
      for (const auto& replica : version.replicas) {
        if (!replica->healthy.load()) {
          continue;
        }
        if (version.track == Track::kStandby) {
          standby = version.id;
        } else if (version.weight > 0) {
          primary = true;
        }
      }
    }
    const std::string& name = model->config.name;
    auto it = on_standby_.find(name);
    if (!primary && !standby.empty() && it == on_standby_.end()) {
      const int64_t id =
          event("l2_takeover", name, standby, "controller",
                "no primary replica is healthy: the standby takes the traffic",
                dump({{"before", json::parse(metricsJson(name, ""), nullptr, false)}}));
      on_standby_[name] = {SteadyClock::now(), id};
    } else if (primary && it != on_standby_.end()) {
      (void)store_->updateEvent(
          it->second.second,
          dump({{"state", "primary restored"},
                {"on_standby_seconds", secondsBetween(it->second.first, SteadyClock::now())},
                {"after", json::parse(metricsJson(name, ""), nullptr, false)}}));
      event("l2_restored", name, "", "controller", "a primary replica is healthy again", "{}");
      on_standby_.erase(it);
    }
  }
}

void Controller::checkAccuracy() {
  // L3: the stable version now gets wrong, on the golden cases it answers, more of what it got
  // right when it first answered them than the margin, with statistical confidence: roll back.
  // The comparison is paired, case by case (prober.h), so neither which cases a window drew nor
  // testing at every tick can make an unchanged version look worse; an unpaired test against
  // the accuracy of its first window rolled healthy versions back in the drill.
  if (!config_.recovery.rollback_on_accuracy) {
    return;
  }
  auto rows = store_->versions();
  if (!rows.ok()) {
    return;
  }
  auto table = gateway_.routes();
  for (const auto& model : table->models()) {
    const std::string& name = model->config.name;
    if (!prober_->probes(name)) {
      continue;
    }
    if (auto r = rollouts_.find(name); r != rollouts_.end() && !r->second->done()) {
      continue;  // A rollout in progress judges accuracy itself.
    }
    const std::string stable = stableOf(*model);
    if (stable.empty()) {
      continue;
    }
    const int recent = config_.recovery.recent_probes;
    const Accuracy now = prober_->accuracy(name, stable, recent);
    const Accuracy window = prober_->accuracy(name, stable);
    double reference = -1;
    for (const auto& row : *rows) {
      if (row.model == name && row.version == stable) {
        reference = row.accuracy;
      }
    }
    if (reference < 0) {
      // Not known yet: learn it from a full window of a healthy stable version.
      if (window.total >= static_cast<uint64_t>(2 * recent)) {
        setState(name, stable, "stable", "controller", "accuracy measured", window.value());
      }
      continue;
    }
    const PairedChange change = prober_->change(name, stable, recent);
    if (change.total < static_cast<uint64_t>(recent)) {
      continue;
    }
    const double drop = change.drop();
    const double z = change.z();
    if (drop <= config_.recovery.accuracy_margin || z < criticalZ(config_.recovery.confidence)) {
      continue;
    }
    const std::string target = rollbackTarget(*model, stable);
    const std::string reason = fmt::format(
        "probe accuracy {:.3f} over the last {} probes ({:.3f} when it became stable); of {} "
        "golden cases asked again it lost {} it had answered right and gained {}: {:.3f} lower "
        "(McNemar z {:.2f})",
        now.value(), now.total, reference, change.total, change.lost, change.gained, drop, z);
    if (target.empty()) {
      event("l3_no_target", name, stable, "controller", reason + "; nothing to roll back to", "{}");
      continue;
    }
    rollback(name, stable, target, "l3_rollback", "controller", reason);
  }
}

std::string Controller::rollbackTarget(const gateway::ModelRoute& model,
                                       const std::string& stable) {
  // The most recent other stable version that still has replicas; one that failed since (a
  // canary of it rolled back) only when nothing else is left.
  std::set<std::string> failed;
  if (auto rows = store_->versions(); rows.ok()) {
    for (const auto& row : *rows) {
      if (row.model == model.config.name && row.state == "failed") {
        failed.insert(row.version);
      }
    }
  }
  std::vector<std::string> candidates;
  if (auto history = store_->history(model.config.name, 200); history.ok()) {
    for (const auto& h : *history) {
      const auto* v =
          h.to_state == "stable" && h.version != stable ? findVersion(model, h.version) : nullptr;
      if (v != nullptr && !v->replicas.empty()) {
        candidates.push_back(h.version);
      }
    }
  }
  for (const auto& v : model.versions) {
    if (v.id != stable && v.track == Track::kStandby && !v.replicas.empty()) {
      candidates.push_back(v.id);  // No stable history: the standby is the known fallback.
    }
  }
  for (const std::string& c : candidates) {
    if (failed.count(c) == 0) {
      return c;
    }
  }
  return candidates.empty() ? "" : candidates.front();
}

Status Controller::setRoute(const std::string& model, const std::string& version, Track track,
                            double weight, const std::string& other, Track other_track,
                            double other_weight) {
  return gateway_.mutate([&](gateway::GatewayConfig& config) -> Status {
    for (auto& m : config.models) {
      if (m.name != model) {
        continue;
      }
      for (auto& v : m.versions) {
        if (v.id == version) {
          v.track = track;
          v.weight = weight;
        } else if (v.id == other) {
          v.track = other_track;
          v.weight = other_weight;
        }
      }
      return okStatus();
    }
    return notFound("no model " + model);
  });
}

void Controller::rollback(const std::string& model, const std::string& from, const std::string& to,
                          const std::string& kind, const std::string& actor,
                          const std::string& reason) {
  const auto started = SteadyClock::now();
  const std::string before = metricsJson(model, "");
  if (Status s = setRoute(model, to, Track::kStable, 100, from, Track::kStandby, 0); !s.ok()) {
    DW_LOG_ERROR("rollback of {} failed: {}", model, s.message());
    return;
  }
  setState(model, from, "failed", actor, reason);
  setState(model, to, "stable", actor, "rolled back to");
  prober_->reset(model, from);
  event(kind, model, from, actor, reason,
        dump({{"from", from},
              {"to", to},
              {"switch_seconds", secondsBetween(started, SteadyClock::now())},
              {"before", json::parse(before, nullptr, false)}}));
}

Status Controller::deploy(const std::string& model, const std::string& version, bool direct,
                          const std::string& actor, const std::string& reason) {
  auto table = gateway_.routes();
  const gateway::ModelRoute* route = table->find(model);
  if (route == nullptr) {
    return notFound("no model '" + model + "'");
  }
  const gateway::VersionRoute* candidate = findVersion(*route, version);
  if (candidate == nullptr) {
    return notFound(
        fmt::format("model '{}' has no version '{}' in the configuration", model, version));
  }
  const std::string stable = stableOf(*route);
  if (stable == version) {
    return failedPrecondition(fmt::format("{} is already the stable version", version));
  }
  if (auto it = rollouts_.find(route->config.name); it != rollouts_.end() && !it->second->done()) {
    return failedPrecondition(fmt::format("a rollout of {} is in progress ({})",
                                          it->second->candidate, it->second->state));
  }
  auto rollout = std::make_unique<Rollout>();
  rollout->model = route->config.name;
  rollout->candidate = version;
  rollout->baseline = stable;
  rollout->direct = direct;
  rollout->actor = actor;
  rollout->reason = reason;
  rollout->started = rollout->step_started = SteadyClock::now();
  // Stored before anything is changed: an acknowledged deployment outlives this controller.
  DW_RETURN_IF_ERROR(saveRollout(*rollout));
  // It loads on the standby side: no traffic until it is healthy and compatible (R4).
  DW_RETURN_IF_ERROR(setRoute(rollout->model, version, Track::kStandby, 0, "", Track::kStable, 0));
  if (candidate->replicas.empty() || launched_.count({rollout->model, version}) != 0) {
    const auto& ports = launched_[{rollout->model, version}];
    if (ports.empty()) {
      int count = 1;
      for (const auto& m : gateway_.config().models) {
        for (const auto& v : m.versions) {
          if (m.name == rollout->model && v.id == version) {
            count = std::max(1, v.launch.replicas);
          }
        }
      }
      DW_RETURN_IF_ERROR(launchReplicas(rollout->model, version, count));
    }
  }
  setState(rollout->model, version, "loading", actor, reason);
  compatibility_.erase({rollout->model, version});
  prober_->reset(rollout->model, version);
  rollout->event_id = event(direct ? "deploy_direct" : "deploy_canary", rollout->model, version,
                            actor, reason, dump({{"baseline", stable}}));
  rollouts_[rollout->model] = std::move(rollout);
  return okStatus();
}

asio::awaitable<void> Controller::compatibilityCheck(std::string model, std::string version) {
  // R4.1(a): same API capabilities as the stable version, answers to a chat and a streamed
  // request, logprobs when the stable has them, a context length not smaller.
  auto table = gateway_.routes();
  const gateway::ModelRoute* route = table->find(model);
  std::string result = "ok";
  const gateway::VersionRoute* candidate = route ? findVersion(*route, version) : nullptr;
  const gateway::VersionRoute* stable = route ? findVersion(*route, stableOf(*route)) : nullptr;
  auto base = [](const gateway::Replica& r) { return "http://" + r.host_header + r.path_prefix; };
  auto first = [](const gateway::VersionRoute* v) -> const gateway::Replica* {
    if (v == nullptr) {
      return nullptr;
    }
    for (const auto& r : v->replicas) {
      if (r->healthy.load()) {
        return r.get();
      }
    }
    return nullptr;
  };
  const gateway::Replica* c = first(candidate);
  const gateway::Replica* s = first(stable);
  if (c == nullptr) {
    compatibility_[{model, version}] = "no healthy replica";
    co_return;
  }
  auto max_len = [](const std::string& body, const std::string& id) -> int64_t {
    json j = json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_array()) {
      for (const auto& m : j["data"]) {
        if (m.value("id", "") == id) {
          return m.value("max_model_len", int64_t{0});
        }
      }
      return -1;
    }
    return -1;
  };
  auto models =
      co_await net::httpCallAsync("GET", base(*c) + "/v1/models", "", std::chrono::seconds(5));
  const int64_t candidate_len =
      models.ok() && models->status == 200 ? max_len(models->body, candidate->upstream_model) : -1;
  if (candidate_len < 0) {
    result = "GET /v1/models does not list " + candidate->upstream_model;
  }
  if (result == "ok" && s != nullptr) {
    auto stable_models =
        co_await net::httpCallAsync("GET", base(*s) + "/v1/models", "", std::chrono::seconds(5));
    const int64_t stable_len = stable_models.ok() && stable_models->status == 200
                                   ? max_len(stable_models->body, stable->upstream_model)
                                   : 0;
    if (stable_len > 0 && candidate_len > 0 && candidate_len < stable_len) {
      result = fmt::format("context length {} is smaller than the stable's {}", candidate_len,
                           stable_len);
    }
  }
  const json chat = {{"model", candidate->upstream_model},
                     {"messages", json::array({{{"role", "user"}, {"content", "Hello"}}})},
                     {"max_tokens", 4},
                     {"logprobs", true}};
  if (result == "ok") {
    auto answer = co_await net::httpCallAsync("POST", base(*c) + "/v1/chat/completions", dump(chat),
                                              std::chrono::seconds(10));
    json body = answer.ok() ? json::parse(answer->body, nullptr, false) : json();
    if (!answer.ok() || answer->status != 200 || !body.contains("choices")) {
      result = "a chat completion failed";
    } else if (s != nullptr) {
      json stable_chat = chat;
      stable_chat["model"] = stable->upstream_model;
      auto stable_answer = co_await net::httpCallAsync("POST", base(*s) + "/v1/chat/completions",
                                                       dump(stable_chat), std::chrono::seconds(10));
      json stable_body =
          stable_answer.ok() ? json::parse(stable_answer->body, nullptr, false) : json();
      const bool stable_logprobs =
          stable_body.contains("choices") && !stable_body["choices"][0]["logprobs"].is_null();
      const bool candidate_logprobs = !body["choices"][0]["logprobs"].is_null();
      if (stable_logprobs && !candidate_logprobs) {
        result = "logprobs are missing (the stable version has them)";
      }
    }
  }
  if (result == "ok") {
    json stream = chat;
    stream["stream"] = true;
    stream.erase("logprobs");
    auto answer = co_await net::httpCallAsync("POST", base(*c) + "/v1/chat/completions",
                                              dump(stream), std::chrono::seconds(10));
    if (!answer.ok() || answer->status != 200 ||
        answer->body.find("data: [DONE]") == std::string::npos) {
      result = "a streamed chat completion failed";
    }
  }
  compatibility_[{model, version}] = result;
}

std::string Controller::analyze(Rollout& rollout, bool* pass, bool* enough) {
  // R4.1 and beyond, over the shortest window: latency, errors, accuracy, alerts.
  const RolloutConfig& rc = config_.rollout;
  auto snapshot = gateway_.observed();
  const observe::WindowStats* canary = nullptr;
  const observe::WindowStats* stable = nullptr;
  for (const auto& s : snapshot->series) {
    if (s.name.model == rollout.model && !s.windows.empty()) {
      if (s.name.version == rollout.candidate) {
        canary = &s.windows[0];
      } else if (s.name.version == rollout.baseline) {
        stable = &s.windows[0];
      }
    }
  }
  *enough = canary != nullptr && stable != nullptr && canary->requests >= rc.min_requests &&
            stable->requests >= rc.min_requests;
  *pass = false;
  if (!*enough) {
    return fmt::format("waiting for {} requests per arm (canary {}, stable {})", rc.min_requests,
                       canary ? canary->requests : 0, stable ? stable->requests : 0);
  }
  if (prober_->probes(rollout.model)) {
    // Accuracy is judged on enough probes too: a few dozen cannot tell a 10-point drop.
    const uint64_t probes = prober_->accuracy(rollout.model, rollout.candidate).total;
    if (probes < static_cast<uint64_t>(rc.min_probes)) {
      *enough = false;
      return fmt::format("waiting for {} probes of the canary ({} so far)", rc.min_probes, probes);
    }
  }
  std::vector<std::string> failures;
  const double slack = std::chrono::duration<double>(rc.p99_slack).count();
  if (!std::isnan(canary->p99) && !std::isnan(stable->p99) &&
      canary->p99 > std::max(rc.p99_ratio * stable->p99, stable->p99 + slack)) {
    failures.push_back(fmt::format("P99 {:.3f} s > {:.1f} x stable {:.3f} s", canary->p99,
                                   rc.p99_ratio, stable->p99));
  }
  const double canary_errors = std::isnan(canary->error_ratio) ? 0 : canary->error_ratio;
  const double stable_errors = std::isnan(stable->error_ratio) ? 0 : stable->error_ratio;
  if (canary_errors > stable_errors + rc.error_margin) {
    failures.push_back(fmt::format("error ratio {:.3f} > stable {:.3f} + {:.2f}", canary_errors,
                                   stable_errors, rc.error_margin));
  }
  if (prober_->probes(rollout.model)) {
    const Accuracy c = prober_->accuracy(rollout.model, rollout.candidate);
    const Accuracy s = prober_->accuracy(rollout.model, rollout.baseline);
    // Lower by more than the margin, and significantly so (one-sided z-test at 95%): sampling
    // noise on a few dozen probes alone must not fail a good version.
    if (s.total >= 10 && c.value() < s.value() - rc.accuracy_margin &&
        zStatistic(s.value(), static_cast<double>(s.total), c.value(),
                   static_cast<double>(c.total)) > criticalZ(0.95)) {
      failures.push_back(fmt::format("probe accuracy {:.3f} < stable {:.3f} - {:.2f}", c.value(),
                                     s.value(), rc.accuracy_margin));
    }
  }
  if (critical_alert_ && critical_alert_(rollout.model, rollout.candidate)) {
    failures.push_back("a critical alert fires on the canary");
  }
  *pass = failures.empty();
  std::string summary = fmt::format("P99 {:.3f}/{:.3f} s, errors {:.3f}/{:.3f}", canary->p99,
                                    stable->p99, canary_errors, stable_errors);
  if (prober_->probes(rollout.model)) {
    const Accuracy c = prober_->accuracy(rollout.model, rollout.candidate);
    const Accuracy s = prober_->accuracy(rollout.model, rollout.baseline);
    summary += fmt::format(", probe accuracy {:.3f} ({} probes)/{:.3f} ({})", c.value(), c.total,
                           s.value(), s.total);
  }
  for (const std::string& f : failures) {
    summary += "; " + f;
  }
  return summary;
}

void Controller::finish(Rollout& rollout, const std::string& state, const std::string& reason) {
  rollout.state = state;
  (void)store_->updateEvent(
      rollout.event_id,
      dump({{"baseline", rollout.baseline},
            {"result", state},
            {"reason", reason},
            {"seconds", secondsBetween(rollout.started, SteadyClock::now())},
            {"after", json::parse(metricsJson(rollout.model, ""), nullptr, false)}}));
}

Status Controller::saveRollout(Rollout& rollout) {
  std::string document = dump({{"model", rollout.model},
                               {"candidate", rollout.candidate},
                               {"baseline", rollout.baseline},
                               {"mode", rollout.direct ? "direct" : "canary"},
                               {"state", rollout.state},
                               {"step", rollout.step},
                               {"failed_analyses", rollout.failed_analyses},
                               {"actor", rollout.actor},
                               {"reason", rollout.reason}});
  if (document == rollout.saved) {
    return okStatus();
  }
  Status status = state_->put("rollouts", rollout.model, document);
  if (!status.ok()) {
    DW_LOG_WARN("the rollout of {} {} ({}) is not stored: {}", rollout.model, rollout.candidate,
                rollout.state, status.message());
    return status;
  }
  rollout.saved = std::move(document);
  return okStatus();
}

bool Controller::loadRollouts() {
  StatusOr<std::map<std::string, std::string>> documents = state_->list("rollouts");
  if (!documents.ok()) {
    DW_LOG_WARN("the rollouts cannot be read from {}: {}", state_->backend(),
                documents.status().message());
    return false;
  }
  std::map<std::string, std::unique_ptr<Rollout>> loaded;
  const auto now = SteadyClock::now();
  for (const auto& [model, document] : *documents) {
    json doc = json::parse(document, nullptr, false);
    if (!doc.is_object()) {
      DW_LOG_WARN("ignoring the stored rollout of {}: not a JSON object", model);
      continue;
    }
    auto rollout = std::make_unique<Rollout>();
    rollout->model = doc.value("model", model);
    rollout->candidate = doc.value("candidate", "");
    rollout->baseline = doc.value("baseline", "");
    rollout->direct = doc.value("mode", "canary") == "direct";
    rollout->state = doc.value("state", "failed");
    rollout->step =
        std::min<size_t>(doc.value("step", size_t{0}),
                         config_.rollout.steps.empty() ? 0 : config_.rollout.steps.size() - 1);
    rollout->failed_analyses = doc.value("failed_analyses", 0);
    rollout->actor = doc.value("actor", "");
    rollout->reason = doc.value("reason", "");
    rollout->saved = document;
    // Timers start again: the step in progress is analysed over a full interval of this
    // controller's own observations.
    rollout->started = rollout->step_started = now;
    if (!rollout->done()) {
      const bool routed = (rollout->state == "canary" || rollout->state == "paused") &&
                          !config_.rollout.steps.empty();
      if (routed) {
        // The routes of the step, in case the last controller died between its decision and
        // publishing them.
        const int percent = config_.rollout.steps[rollout->step];
        (void)setRoute(rollout->model, rollout->candidate, Track::kCanary, percent,
                       rollout->baseline, Track::kStable, 100 - percent);
      }
      rollout->event_id = event(
          "rollout_resumed", rollout->model, rollout->candidate, "controller",
          fmt::format("{} rollout resumed from {} ({}{})", rollout->direct ? "direct" : "canary",
                      state_->backend(), rollout->state,
                      routed ? fmt::format(" at {}%", config_.rollout.steps[rollout->step]) : ""),
          dump({{"baseline", rollout->baseline},
                {"step", rollout->step},
                {"backend", state_->backend()}}));
      DW_LOG_WARN("resuming the rollout of {} {} ({}, step {}) from {}", rollout->model,
                  rollout->candidate, rollout->state, rollout->step, state_->backend());
    }
    loaded[rollout->model] = std::move(rollout);
  }
  rollouts_ = std::move(loaded);
  return true;
}

void Controller::advance(Rollout& rollout) {
  const RolloutConfig& rc = config_.rollout;
  const auto now = SteadyClock::now();
  if (rollout.state == "paused") {
    return;
  }
  if (rollout.state == "loading") {
    auto table = gateway_.routes();
    const gateway::ModelRoute* route = table->find(rollout.model);
    const gateway::VersionRoute* v = route ? findVersion(*route, rollout.candidate) : nullptr;
    bool healthy = v != nullptr && !v->replicas.empty();
    for (size_t i = 0; healthy && i < v->replicas.size(); ++i) {
      const auto& r = *v->replicas[i];
      healthy = r.healthy.load() &&
                r.last_check_ok_ns.load() > rollout.started.time_since_epoch().count();
    }
    auto compat = compatibility_.find({rollout.model, rollout.candidate});
    if (healthy && compat == compatibility_.end()) {
      compatibility_[{rollout.model, rollout.candidate}] = "";
      asio::co_spawn(gateway_.controlContext(),
                     compatibilityCheck(rollout.model, rollout.candidate), asio::detached);
      return;
    }
    if (compat != compatibility_.end() && !compat->second.empty()) {
      if (compat->second != "ok") {
        setState(rollout.model, rollout.candidate, "failed", "controller", compat->second);
        finish(rollout, "failed", "compatibility check: " + compat->second);
        event("deploy_failed", rollout.model, rollout.candidate, "controller", compat->second,
              "{}");
        return;
      }
      if (rollout.direct) {
        // Hot update: the route switches as a whole once the new version passed its checks.
        rollback(rollout.model, rollout.baseline, rollout.candidate, "promote", rollout.actor,
                 "direct switch");
        setState(rollout.model, rollout.baseline, "standby", rollout.actor, "replaced");
        setState(rollout.model, rollout.candidate, "stable", rollout.actor, "direct switch");
        finish(rollout, "promoted", "direct switch");
        return;
      }
      rollout.state = "canary";
      rollout.step = 0;
      rollout.step_started = now;
      const int percent = rc.steps[0];
      (void)setRoute(rollout.model, rollout.candidate, Track::kCanary, percent, rollout.baseline,
                     Track::kStable, 100 - percent);
      setState(rollout.model, rollout.candidate, "canary", rollout.actor,
               fmt::format("canary at {}%", percent));
      event("canary_step", rollout.model, rollout.candidate, "controller",
            fmt::format("canary at {}%", percent), "{}");
      return;
    }
    if (now - rollout.started > rc.ready_timeout) {
      setState(rollout.model, rollout.candidate, "failed", "controller", "did not become ready");
      finish(rollout, "failed", "not ready within the ready timeout");
    }
    return;
  }
  if (rollout.state != "canary" || now - rollout.step_started < rc.step_interval) {
    return;
  }
  bool pass = false;
  bool enough = false;
  rollout.last_analysis = analyze(rollout, &pass, &enough);
  if (!enough) {
    return;  // Not judged yet: the step lasts until both arms have enough requests.
  }
  if (!pass) {
    ++rollout.failed_analyses;
    event("canary_analysis_failed", rollout.model, rollout.candidate, "controller",
          rollout.last_analysis, "{}");
    if (rollout.failed_analyses >= rc.max_failed_analyses) {
      rollback(rollout.model, rollout.candidate, rollout.baseline, "canary_rollback", "controller",
               rollout.last_analysis);
      finish(rollout, "rolled_back", rollout.last_analysis);
      return;
    }
    rollout.step_started = now;
    return;
  }
  if (rollout.step + 1 >= rc.steps.size()) {
    // Every step passed: promote (R4).
    const Accuracy accuracy = prober_->accuracy(rollout.model, rollout.candidate);
    (void)setRoute(rollout.model, rollout.candidate, Track::kStable, 100, rollout.baseline,
                   Track::kStandby, 0);
    setState(rollout.model, rollout.baseline, "standby", rollout.actor, "replaced by a canary");
    // Its reference accuracy for L3, when the canary gave enough probes to trust it; otherwise
    // it is learnt from the first full window as stable.
    const auto enough_probes = static_cast<uint64_t>(2 * config_.recovery.recent_probes);
    setState(rollout.model, rollout.candidate, "stable", rollout.actor, "canary promoted",
             accuracy.total >= enough_probes ? accuracy.value() : -1);
    event("promote", rollout.model, rollout.candidate, rollout.actor, rollout.last_analysis, "{}");
    finish(rollout, "promoted", rollout.last_analysis);
    return;
  }
  ++rollout.step;
  rollout.step_started = now;
  const int percent = rc.steps[rollout.step];
  (void)setRoute(rollout.model, rollout.candidate, Track::kCanary, percent, rollout.baseline,
                 Track::kStable, 100 - percent);
  event("canary_step", rollout.model, rollout.candidate, "controller",
        fmt::format("canary at {}% after: {}", percent, rollout.last_analysis), "{}");
}

void Controller::autoscale() {
  auto snapshot = gateway_.observed();
  const gateway::ResourceReadings* readings = nullptr;
  (void)readings;
  for (auto& [key, autoscaler] : autoscalers_) {
    const gateway::VersionConfig* config = nullptr;
    for (const auto& m : gateway_.config().models) {
      for (const auto& v : m.versions) {
        if (m.name == key.first && v.id == key.second) {
          config = &v;
        }
      }
    }
    if (config == nullptr) {
      continue;
    }
    const auto now = SteadyClock::now();
    auto last = last_scaled_.find(key);
    if (last != last_scaled_.end() && now - last->second < config->autoscale.interval) {
      continue;
    }
    last_scaled_[key] = now;
    ScaleInputs inputs;
    inputs.current = static_cast<int>(launched_[key].size());
    for (const auto& s : snapshot->series) {
      if (s.name.model == key.first && s.name.version == key.second && !s.windows.empty()) {
        inputs.qps = s.windows[0].qps;
      }
    }
    const int desired = autoscaler.desired(inputs, now);
    if (desired == inputs.current) {
      continue;
    }
    const std::string reason = fmt::format(
        "{:.1f} req/s over {} replicas (target {:.0f} per replica less {:.0f}% headroom): {} -> {}",
        inputs.qps, inputs.current, config->autoscale.target_qps, config->autoscale.headroom * 100,
        inputs.current, desired);
    Status s = desired > inputs.current
                   ? launchReplicas(key.first, key.second, desired - inputs.current)
                   : stopReplicas(key.first, key.second, inputs.current - desired);
    event("scale", key.first, key.second, "autoscaler", reason,
          dump({{"from", inputs.current},
                {"to", desired},
                {"qps", inputs.qps},
                {"result", s.ok() ? "ok" : s.message()}}));
  }
}

gateway::Gateway::AdminReply Controller::handleAdmin(const net::Request& request,
                                                     const gateway::AdminCaller& caller) {
  // The gateway audits this request; events it causes are not audited twice.
  in_admin_ = true;
  struct Reset {
    bool* flag;
    ~Reset() { *flag = false; }
  } reset{&in_admin_};
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const bool post = request.method() == net::http::verb::post;
  json body = post && !request.body().empty() ? json::parse(request.body(), nullptr, false)
                                              : json::object();
  if (body.is_discarded() || !body.is_object()) {
    return error(invalidArgument("the body must be a JSON object"));
  }
  // The authenticated caller is the actor; the body's "actor" counts only without
  // authentication (local development).
  const std::string actor =
      !caller.actor.empty() ? caller.actor
                            : body.value("actor", std::string(request["x-deepwatch-actor"]).empty()
                                                      ? "admin"
                                                      : std::string(request["x-deepwatch-actor"]));
  const std::string reason = body.value("reason", "");
  if (path == "/admin/v1/versions") {
    json out = json::array();
    auto rows = store_->versions();
    auto table = gateway_.routes();
    if (rows.ok()) {
      for (const auto& row : *rows) {
        json v = {{"model", row.model}, {"version", row.version}, {"state", row.state}};
        v["accuracy_when_stable"] = row.accuracy >= 0 ? json(row.accuracy) : json(nullptr);
        const Accuracy a = prober_->accuracy(row.model, row.version);
        v["probe_accuracy"] = a.total > 0 ? json(a.value()) : json(nullptr);
        v["probes"] = a.total;
        if (const auto* m = table->find(row.model)) {
          if (const auto* r = findVersion(*m, row.version)) {
            v["track"] = gateway::trackName(r->track);
            v["weight"] = r->weight;
            json replicas = json::array();
            for (const auto& rep : r->replicas) {
              replicas.push_back({{"url", rep->url},
                                  {"healthy", rep->healthy.load()},
                                  {"checked", rep->last_check_ok_ns.load() > 0}});
            }
            v["replicas"] = std::move(replicas);
          }
        }
        out.push_back(std::move(v));
      }
    }
    return reply(200, {{"versions", std::move(out)}});
  }
  if (path == "/admin/v1/events") {
    json out = json::array();
    if (auto rows = store_->events(200); rows.ok()) {
      for (const auto& e : *rows) {
        out.push_back({{"id", e.id},
                       {"at_ms", e.at_ms},
                       {"kind", e.kind},
                       {"model", e.model},
                       {"version", e.version},
                       {"actor", e.actor},
                       {"reason", e.reason},
                       {"details", json::parse(e.details_json, nullptr, false)}});
      }
    }
    return reply(200, {{"events", std::move(out)}});
  }
  if (cluster_ && !cluster_->leader() && path.starts_with("/admin/v1/rollouts")) {
    // A follower neither runs nor changes rollouts: it shows the leader's, as stored.
    if (post) {
      return error(unavailable(fmt::format(
          "this gateway does not lead the cluster: send rollout operations to the leader '{}'",
          cluster_->leaderName())));
    }
    StatusOr<std::map<std::string, std::string>> documents = state_->list("rollouts");
    if (!documents.ok()) {
      return error(documents.status());
    }
    json out = json::array();
    for (const auto& [model, document] : *documents) {
      json doc = json::parse(document, nullptr, false);
      if (!doc.is_object()) {
        continue;
      }
      const std::string state = doc.value("state", "");
      const size_t step = doc.value("step", size_t{0});
      doc["step"] = (state == "canary" || state == "paused") && step < config_.rollout.steps.size()
                        ? json(config_.rollout.steps[step])
                        : json(nullptr);
      doc["leader"] = cluster_->leaderName();
      out.push_back(std::move(doc));
    }
    return reply(200, {{"rollouts", std::move(out)}});
  }
  if (path == "/admin/v1/rollouts" && !post) {
    json out = json::array();
    for (const auto& [model, r] : rollouts_) {
      out.push_back({{"model", r->model},
                     {"candidate", r->candidate},
                     {"baseline", r->baseline},
                     {"state", r->state},
                     {"mode", r->direct ? "direct" : "canary"},
                     {"step", r->state == "canary" || r->state == "paused"
                                  ? json(config_.rollout.steps[r->step])
                                  : json(nullptr)},
                     {"failed_analyses", r->failed_analyses},
                     {"last_analysis", r->last_analysis},
                     {"actor", r->actor},
                     {"reason", r->reason}});
    }
    return reply(200, {{"rollouts", std::move(out)}});
  }
  if (path == "/admin/v1/rollouts" && post) {
    const std::string mode = body.value("mode", "canary");
    Status s = deploy(body.value("model", ""), body.value("version", ""), mode == "direct", actor,
                      reason.empty() ? "deploy" : reason);
    return s.ok() ? reply(200, {{"status", "started"}}) : error(s);
  }
  if (path.starts_with("/admin/v1/rollouts/") && post) {
    // /admin/v1/rollouts/{model}/{pause|resume|promote|abort}
    std::string_view rest = path.substr(19);
    const size_t slash = rest.find('/');
    const std::string model(rest.substr(0, slash));
    const std::string action(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
    auto it = rollouts_.find(model);
    if (it == rollouts_.end()) {
      return error(notFound("no rollout of '" + model + "'"));
    }
    Rollout& r = *it->second;
    if (r.done()) {
      return error(failedPrecondition("the rollout of '" + model + "' is " + r.state));
    }
    if (action == "pause" && r.state == "canary") {
      r.state = "paused";
    } else if (action == "resume" && r.state == "paused") {
      r.state = "canary";
      r.step_started = SteadyClock::now();
    } else if (action == "promote" && (r.state == "canary" || r.state == "paused")) {
      (void)setRoute(r.model, r.candidate, Track::kStable, 100, r.baseline, Track::kStandby, 0);
      setState(r.model, r.baseline, "standby", actor, "replaced");
      setState(r.model, r.candidate, "stable", actor, reason.empty() ? "promoted by hand" : reason);
      event("promote", r.model, r.candidate, actor, reason.empty() ? "by hand" : reason, "{}");
      finish(r, "promoted", "by hand");
    } else if (action == "abort") {
      rollback(r.model, r.candidate, r.baseline, "abort", actor,
               reason.empty() ? "aborted by hand" : reason);
      finish(r, "aborted", "by hand");
    } else {
      return error(failedPrecondition("cannot " + action + " a rollout that is " + r.state));
    }
    event(action, r.model, r.candidate, actor, reason, "{}");
    if (Status saved = saveRollout(r); !saved.ok()) {
      return error(saved);  // Done here, but it would not outlive this controller.
    }
    return reply(200, {{"status", r.state}});
  }
  if (path == "/admin/v1/rollback" && post) {
    // A manual rollback of the stable version: to `to`, or to the last stable before it.
    auto table = gateway_.routes();
    const gateway::ModelRoute* route = table->find(body.value("model", ""));
    if (route == nullptr) {
      return error(notFound("no model '" + body.value("model", "") + "'"));
    }
    const std::string& model = route->config.name;
    if (auto it = rollouts_.find(model); it != rollouts_.end() && !it->second->done()) {
      return error(failedPrecondition("a rollout of " + it->second->candidate +
                                      " is in progress: abort it instead"));
    }
    const std::string stable = stableOf(*route);
    const std::string to = body.value("to", rollbackTarget(*route, stable));
    const gateway::VersionRoute* target = findVersion(*route, to);
    if (to.empty() || target == nullptr || to == stable) {
      return error(failedPrecondition(to.empty() ? "nothing to roll back to"
                                                 : "cannot roll back to '" + to + "'"));
    }
    if (target->replicas.empty()) {
      return error(failedPrecondition("'" + to + "' has no replica"));
    }
    rollback(model, stable, to, "rollback", actor, reason.empty() ? "rolled back by hand" : reason);
    // rollback() logs why the routing could not be switched (the state file cannot be written,
    // say): then nothing was rolled back and the operation is not acknowledged.
    if (const auto* now = gateway_.routes()->find(model); now == nullptr || stableOf(*now) != to) {
      return error(
          unavailable("the routing could not be switched (the state file cannot be "
                      "written); nothing was rolled back"));
    }
    return reply(200, {{"from", stable}, {"to", to}});
  }
  if (path == "/admin/v1/settings") {
    return handleSettings(body, post, actor);
  }
  if (path == "/admin/v1/scale" && post) {
    const std::string model = body.value("model", "");
    const std::string version = body.value("version", "");
    const int replicas = body.value("replicas", -1);
    if (replicas < 0 || replicas > 1000) {
      return error(invalidArgument("replicas must be from 0 to 1000"));
    }
    const int current = static_cast<int>(launched_[{model, version}].size());
    Status s = replicas > current ? launchReplicas(model, version, replicas - current)
                                  : stopReplicas(model, version, current - replicas);
    if (s.ok()) {
      event("scale", model, version, actor, reason.empty() ? "by hand" : reason,
            dump({{"from", current}, {"to", replicas}}));
    }
    return s.ok() ? reply(200, {{"replicas", replicas}}) : error(s);
  }
  return error(notFound("unknown control path"));
}

gateway::Gateway::AdminReply Controller::handleSettings(const json& body, bool post,
                                                        const std::string& actor) {
  // The analysis and recovery thresholds, tuned at run time (until the next restart or reload).
  RolloutConfig rollout = config_.rollout;
  RecoveryConfig recovery = config_.recovery;
  if (post) {
    std::string problem;
    auto number = [&](const json& section, const char* key, double min, double max, auto* out) {
      if (!section.contains(key)) {
        return;
      }
      using T = std::remove_pointer_t<decltype(out)>;
      const json& v = section[key];
      const bool typed = std::is_integral_v<T> ? v.is_number_integer() : v.is_number();
      if (!typed || v.get<double>() < min || v.get<double>() > max) {
        problem = fmt::format("'{}' must be {} from {} to {}", key,
                              std::is_integral_v<T> ? "an integer" : "a number", min, max);
        return;
      }
      *out = static_cast<T>(v.get<double>());
    };
    auto duration = [&](const json& section, const char* key, Duration* out) {
      if (!section.contains(key)) {
        return;
      }
      auto d = section[key].is_string() ? parseDuration(section[key].get<std::string>())
                                        : StatusOr<Duration>(invalidArgument("not a string"));
      if (!d.ok() || d->count() <= 0) {
        problem = fmt::format("'{}' must be a duration such as \"30s\"", key);
        return;
      }
      *out = *d;
    };
    for (const auto& [key, value] : body.items()) {
      if (key != "rollout" && key != "recovery" && key != "actor" && key != "reason") {
        return error(invalidArgument("unknown setting section '" + key + "'"));
      }
    }
    const json r = body.value("rollout", json::object());
    const json c = body.value("recovery", json::object());
    static constexpr std::string_view kRolloutKeys[] = {
        "step_interval", "min_requests",    "min_probes",    "p99_ratio",          "p99_slack",
        "error_margin",  "accuracy_margin", "ready_timeout", "max_failed_analyses"};
    static constexpr std::string_view kRecoveryKeys[] = {"rollback_on_accuracy", "accuracy_margin",
                                                         "recent_probes", "confidence"};
    for (const auto& [key, value] : r.items()) {
      if (std::find(std::begin(kRolloutKeys), std::end(kRolloutKeys), key) ==
          std::end(kRolloutKeys)) {
        return error(invalidArgument("unknown rollout setting '" + key + "'"));
      }
    }
    for (const auto& [key, value] : c.items()) {
      if (std::find(std::begin(kRecoveryKeys), std::end(kRecoveryKeys), key) ==
          std::end(kRecoveryKeys)) {
        return error(invalidArgument("unknown recovery setting '" + key + "'"));
      }
    }
    duration(r, "step_interval", &rollout.step_interval);
    duration(r, "p99_slack", &rollout.p99_slack);
    duration(r, "ready_timeout", &rollout.ready_timeout);
    number(r, "min_requests", 0, 1 << 30, &rollout.min_requests);
    number(r, "min_probes", 1, 1 << 30, &rollout.min_probes);
    number(r, "p99_ratio", 0.1, 100, &rollout.p99_ratio);
    number(r, "error_margin", 0, 1, &rollout.error_margin);
    number(r, "accuracy_margin", 0, 1, &rollout.accuracy_margin);
    number(r, "max_failed_analyses", 1, 100, &rollout.max_failed_analyses);
    number(c, "accuracy_margin", 0, 1, &recovery.accuracy_margin);
    number(c, "recent_probes", 5, 100000, &recovery.recent_probes);
    number(c, "confidence", 0.5, 0.9999, &recovery.confidence);
    if (c.contains("rollback_on_accuracy")) {
      if (!c["rollback_on_accuracy"].is_boolean()) {
        problem = "'rollback_on_accuracy' must be true or false";
      } else {
        recovery.rollback_on_accuracy = c["rollback_on_accuracy"].get<bool>();
      }
    }
    if (!problem.empty()) {
      return error(invalidArgument(problem));
    }
    config_.rollout = rollout;
    config_.recovery = recovery;
    event("settings", "", "", actor, body.value("reason", "tuned"),
          dump({{"rollout", r}, {"recovery", c}}));
  }
  return reply(200, {{"rollout",
                      {{"steps", rollout.steps},
                       {"step_interval", formatDuration(rollout.step_interval)},
                       {"min_requests", rollout.min_requests},
                       {"min_probes", rollout.min_probes},
                       {"p99_ratio", rollout.p99_ratio},
                       {"p99_slack", formatDuration(rollout.p99_slack)},
                       {"error_margin", rollout.error_margin},
                       {"accuracy_margin", rollout.accuracy_margin},
                       {"max_failed_analyses", rollout.max_failed_analyses},
                       {"ready_timeout", formatDuration(rollout.ready_timeout)}}},
                     {"recovery",
                      {{"rollback_on_accuracy", recovery.rollback_on_accuracy},
                       {"accuracy_margin", recovery.accuracy_margin},
                       {"recent_probes", recovery.recent_probes},
                       {"confidence", recovery.confidence}}}});
}

void Controller::writeMetrics(observe::ExpositionWriter& w) const {
  const std::string& ns = gateway_.metricsNamespace();  // Admin worker: not config().
  std::lock_guard lock(metrics_mutex_);
  w.family(ns + "_output_accuracy", "gauge",
           "Golden-set probe accuracy of a version over its rolling window (R5 L3).");
  w.family(ns + "_probe_results", "gauge", "Probe results in a version's rolling window.");
  for (const auto& [key, a] : accuracy_) {
    if (a.total > 0) {
      w.sample(ns + "_output_accuracy", {{"model", key.first}, {"version", key.second}}, a.value());
    }
    w.sample(ns + "_probe_results", {{"model", key.first}, {"version", key.second}},
             static_cast<double>(a.total));
  }
  w.family(ns + "_probes_unanswered_total", "counter",
           "Probes that got an error status or no connection (not counted in accuracy).");
  for (const auto& [key, n] : unanswered_) {
    w.sample(ns + "_probes_unanswered_total", {{"model", key.first}, {"version", key.second}},
             static_cast<double>(n));
  }
  w.family(ns + "_replicas_running", "gauge", "Launched replicas running, per version.");
  for (const auto& [key, n] : running_) {
    w.sample(ns + "_replicas_running", {{"model", key.first}, {"version", key.second}}, n);
  }
  if (cluster_) {
    // R9: summed over the instances it must be 1 (deploy/prometheus/cluster_rules.yml alerts
    // on no leader and on two).
    w.family(ns + "_cluster_leader", "gauge", "1 while this gateway leads its cluster, else 0.");
    w.sample(ns + "_cluster_leader", {}, cluster_->leader() ? 1.0 : 0.0);
  }
  w.family(ns + "_control_events_total", "counter", "Maintenance actions by kind.");
  for (const auto& [kind, n] : events_total_) {
    w.sample(ns + "_control_events_total", {{"kind", kind}}, static_cast<double>(n));
  }
}

}  // namespace dw::control
