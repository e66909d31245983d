#include "gateway/gateway.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/duration.h"
#include "base/log.h"
#include "base/process_memory.h"
#include "net/json_error.h"
#include "observe/exposition.h"
#include "observe/metrics_text.h"
#include "security/api_keys.h"
#include "security/audit_ecs.h"
#include "security/dp_noise.h"
#include "security/privacy_ledger.h"

namespace dw::gateway {

namespace http = net::http;
using json = nlohmann::ordered_json;

Gateway::Gateway(GatewayConfig config)
    : config_(std::move(config)),
      config_file_(config_.file),
      metrics_ns_(config_.observe.ns),
      public_metrics_(config_.security.public_metrics) {}

Gateway::~Gateway() { stop(); }

StatusOr<std::unique_ptr<Gateway>> Gateway::create(GatewayConfig config) {
  std::unique_ptr<Gateway> gateway(new Gateway(std::move(config)));
  DW_RETURN_IF_ERROR(gateway->init());
  return gateway;
}

Status Gateway::init() {
  const int workers = config_.workers > 0
                          ? config_.workers
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  net::ServerOptions api;
  api.host = config_.api.host;
  api.port = config_.api.port;
  api.workers = workers;
  api.max_header_bytes = config_.limits.max_header_bytes;
  api.max_body_bytes = config_.limits.max_body_bytes;
  api.max_header_count = config_.limits.max_header_count;
  api.max_request_line_bytes = config_.limits.max_request_line_bytes;
  api.max_connections = config_.limits.max_connections;
  api.max_buffered_body_bytes = config_.limits.max_buffered_body_bytes;
  api.header_timeout = config_.limits.header_timeout;
  api.idle_timeout = config_.limits.idle_timeout;
  api.send_timeout = config_.limits.send_timeout;
  api.drain_timeout = config_.drain_timeout;
  DW_ASSIGN_OR_RETURN(api_, net::HttpServer::create(api, [this](net::Exchange& exchange) {
                        return proxies_[exchange.worker()]->handle(exchange);
                      }));
  net::ServerOptions admin;
  admin.host = config_.admin.host;
  admin.port = config_.admin.port;
  admin.workers = 1;
  admin.drain_timeout = std::chrono::seconds(2);
  DW_ASSIGN_OR_RETURN(admin_, net::HttpServer::create(admin, [this](net::Exchange& exchange) {
                        return handleAdmin(exchange);
                      }));
  memory_guard_ =
      MemoryGuard(effectiveMemoryLimit(config_.limits.max_memory_bytes, cgroupMemoryLimit()));
  dashboard_ = Dashboard::load(config_.dashboard_dir);
  DW_ASSIGN_OR_RETURN(labels_, observe::LabelExtractor::create(config_.observe.labels));
  const uint64_t seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::vector<const observe::WorkerShard*> shards;
  feedback_ = std::make_unique<Feedback>(workers, config_.observe.feedback_memory, seed);
  for (int i = 0; i < workers; ++i) {
    proxies_.push_back(std::make_unique<Proxy>(routes_, access_policy_, api_->watchdog(i), workers,
                                               seed + i, *labels_, *feedback_, i));
    shards.push_back(&proxies_.back()->shard());
  }
  aggregator_ = std::make_unique<observe::Aggregator>(
      config_.observe, std::move(shards), config_.observe.labels.values,
      [this](int series, observe::SeriesName* name) { return nameSeries(series, name); });
  DW_ASSIGN_OR_RETURN(database_, store::Database::open(config_.state_dir + "/deepwatch.db"));
  DW_ASSIGN_OR_RETURN(auto baseline_store, store::BaselineStore::open(*database_));
  baselines_.emplace(std::move(baseline_store));
  DW_ASSIGN_OR_RETURN(auto ledger,
                      security::PrivacyLedger::open(*database_, config_.security.privacy.budget));
  ledger_.emplace(std::move(ledger));
  DW_ASSIGN_OR_RETURN(access_, AccessControl::create(config_.security, *database_,
                                                     config_.state_dir, access_policy_));
  security::AuditLog::Options audit_options;
  audit_options.path = config_.security.audit.path.empty() ? config_.state_dir + "/audit.db"
                                                           : config_.security.audit.path;
  audit_options.ndjson_path = config_.security.audit.ecs_path.empty()
                                  ? config_.state_dir + "/audit.ndjson"
                                  : config_.security.audit.ecs_path;
  DW_ASSIGN_OR_RETURN(auto audit_log, security::AuditLog::open(audit_options));
  audit_ = std::make_unique<AuditTrail>(std::move(audit_log), config_.security.audit.impact_window,
                                        [this] { return aggregator_->snapshot(); });
  health_ = std::make_unique<HealthChecker>(control_io_, [this] { return registry_.replicas(); });
  resources_ =
      std::make_unique<ResourceScraper>(control_io_, [this] { return registry_.replicas(); });
  DW_RETURN_IF_ERROR(loadPiiKey(config_));
  DW_ASSIGN_OR_RETURN(auto route_state, RoutePersistence::open(*database_));
  route_state_.emplace(std::move(route_state));
  DW_RETURN_IF_ERROR(route_state_->restore(config_).status());
  routes_.publish(registry_.build(config_));
  DW_RETURN_IF_ERROR(loadBaselines());
  return okStatus();
}

void Gateway::start() {
  control_work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      control_io_.get_executor());
  control_thread_ = std::thread([this] { control_io_.run(); });
  onControl([this] {
    health_->start(config_.health_check);
    resources_->start(config_.observe.scrape_interval, config_.observe.scrape_replicas);
    startTicks();
    memoryTick();
    return 0;
  });
  api_->start();
  admin_->start();
}

void Gateway::memoryTick() {
  const auto now = std::chrono::steady_clock::now();
  uint64_t resident = residentBytes();
  if (heap_release_.due(now) || (memory_guard_.limit() > 0 && resident > memory_guard_.limit())) {
    // Without this the resident set keeps every page the allocator ever touched, so neither the
    // guard nor an operator watching RSS would see memory being given back after a peak.
    releaseFreeHeap();
    const auto took = std::chrono::steady_clock::now() - now;
    heap_release_.released(now, took);
    DW_LOG_DEBUG(
        "memory: free heap released in {:.2f} ms; next in {} s",
        std::chrono::duration<double, std::milli>(took).count(),
        std::chrono::duration_cast<std::chrono::seconds>(heap_release_.interval()).count());
    resident = residentBytes();
  }
  const bool was_shedding = memory_guard_.shedding();
  const bool shedding = memory_guard_.update(resident);
  if (shedding != was_shedding) {
    if (shedding) {
      DW_LOG_WARN(
          "memory: resident {} MiB is past limits.max_memory_bytes ({} MiB): new requests "
          "get 503 until it falls below {} MiB",
          resident >> 20, memory_guard_.limit() >> 20, memory_guard_.resumeBelow() >> 20);
    } else {
      DW_LOG_INFO("memory: resident {} MiB, below {} MiB again: serving all requests",
                  resident >> 20, memory_guard_.resumeBelow() >> 20);
    }
  }
  api_->setShedding(shedding);
  memory_limit_.store(memory_guard_.limit(), std::memory_order_relaxed);
  memory_shedding_.store(shedding, std::memory_order_relaxed);
  if (now - last_heap_read_ >= std::chrono::seconds(10)) {
    // mallinfo2 walks the free chunks too, arena by arena: every 10 s, not every second.
    last_heap_read_ = now;
    const HeapUsage heap = heapUsage();
    heap_in_use_.store(heap.in_use_bytes, std::memory_order_relaxed);
    heap_reserved_.store(heap.reserved_bytes, std::memory_order_relaxed);
  }
  if (!memory_timer_) {
    memory_timer_ = std::make_unique<asio::steady_timer>(control_io_);
  }
  memory_timer_->expires_after(std::chrono::seconds(1));
  memory_timer_->async_wait([this](const net::error_code& ec) {
    if (!ec) {
      memoryTick();
    }
  });
}

void Gateway::startTicks() {
  // One tick per granularity (R9): merge the shards, slide the windows, measure drift.
  tick_timer_ = std::make_unique<asio::steady_timer>(control_io_);
  tick_timer_->expires_after(config_.observe.granularity);
  tick_timer_->async_wait([this](const net::error_code& ec) { tick(ec); });
}

void Gateway::tick(const net::error_code& ec) {
  // A member function re-arming its timer, rather than a std::function holding a shared_ptr to
  // itself: that cycle was never freed (LeakSanitizer at every gateway exit).
  if (ec || draining_.load()) {
    return;
  }
  aggregator_->tick();
  audit_->tick();
  const auto now = std::chrono::system_clock::now();
  for (const TickHook& hook : tick_hooks_) {
    hook(now);
  }
  tick_timer_->expires_at(tick_timer_->expiry() + config_.observe.granularity);
  tick_timer_->async_wait([this](const net::error_code& next) { tick(next); });
}

bool Gateway::nameSeries(int series, observe::SeriesName* name) const {
  auto table = routes_.load();
  const uint32_t model_id = static_cast<uint32_t>(series / observe::kVersionSlots);
  const int version = series % observe::kVersionSlots;
  for (const auto& model : table->models()) {
    if (model->id == model_id) {
      name->model = model->config.name;
      name->version =
          version < static_cast<int>(model->versions.size()) && version != observe::kNoVersion
              ? model->versions[version].id
              : "none";
      return true;
    }
  }
  return false;
}

Status Gateway::loadBaselines() {
  DW_ASSIGN_OR_RETURN(auto stored, baselines_->loadAll());
  for (const store::StoredBaseline& row : stored) {
    auto baseline = observe::Baseline::fromJson(row.json);
    if (!baseline.ok()) {
      DW_LOG_WARN("ignoring the stored baseline of {}: {}", row.model, baseline.status().message());
      continue;
    }
    aggregator_->setBaseline(std::move(baseline).value());
  }
  if (!stored.empty()) {
    DW_LOG_INFO("loaded {} drift baselines from {}", stored.size(), database_->path());
  }
  return okStatus();
}

Status Gateway::captureBaseline(const std::string& model, const std::string& window,
                                std::string* json) {
  auto table = routes_.load();
  const ModelRoute* route = table->find(model);
  if (route == nullptr) {
    return notFound("no model '" + model + "'");
  }
  DW_ASSIGN_OR_RETURN(observe::Baseline baseline,
                      aggregator_->captureBaseline(route->config.name, window));
  *json = baseline.toJson();
  DW_RETURN_IF_ERROR(
      baselines_->save({baseline.model, baseline.version, baseline.captured_at, *json}));
  aggregator_->setBaseline(std::move(baseline));
  DW_LOG_INFO("drift baseline of {} captured", route->config.name);
  return okStatus();
}

Status Gateway::importBaseline(const std::string& model, std::string_view body, std::string* json) {
  DW_ASSIGN_OR_RETURN(observe::Baseline baseline, observe::Baseline::fromJson(body));
  auto table = routes_.load();
  const ModelRoute* route = table->find(model);
  if (route == nullptr) {
    return notFound("no model '" + model + "'");
  }
  baseline.model = route->config.name;
  *json = baseline.toJson();
  DW_RETURN_IF_ERROR(
      baselines_->save({baseline.model, baseline.version, baseline.captured_at, *json}));
  aggregator_->setBaseline(std::move(baseline));
  return okStatus();
}

template <typename F>
auto Gateway::onControl(F work) -> decltype(work()) {
  using Result = decltype(work());
  std::promise<Result> promise;
  auto future = promise.get_future();
  asio::post(control_io_, [&] { promise.set_value(work()); });
  return future.get();
}

ResourceReadings Gateway::resourceReadings() const { return resources_->readings(); }

Status Gateway::reload() {
  auto loaded = loadGatewayConfig(config_file_);
  if (!loaded.ok()) {
    reloads_failed_.fetch_add(1);
    return loaded.status();
  }
  return onControl([&] { return applyConfig(std::move(loaded).value()); });
}

Status Gateway::mutate(const std::function<Status(GatewayConfig&)>& edit, bool notify) {
  GatewayConfig next = config_;
  DW_RETURN_IF_ERROR(edit(next));
  DW_RETURN_IF_ERROR(route_state_->save(next));  // Durable before it is acknowledged (R9).
  config_ = std::move(next);
  public_metrics_.store(config_.security.public_metrics);
  routes_.publish(registry_.build(config_));
  if (notify) {
    for (const auto& hook : routes_hooks_) {
      hook(config_);
    }
  }
  return okStatus();
}

Status Gateway::applyConfig(GatewayConfig config) {
  for (const auto& hook : reload_hooks_) {
    hook(config_, config);
  }
  if (config.security.pii.hash_key.empty()) {
    config.security.pii.hash_key = config_.security.pii.hash_key;  // Read once, at start.
  }
  std::vector<std::string> fixed;
  if (config.api.host != config_.api.host || config.api.port != config_.api.port) {
    fixed.emplace_back("listeners.api");
  }
  if (config.admin.host != config_.admin.host || config.admin.port != config_.admin.port) {
    fixed.emplace_back("listeners.admin");
  }
  if (config.workers != config_.workers) {
    fixed.emplace_back("workers");
  }
  if (config.limits.max_header_bytes != config_.limits.max_header_bytes ||
      config.limits.max_body_bytes != config_.limits.max_body_bytes ||
      config.limits.max_header_count != config_.limits.max_header_count ||
      config.limits.max_request_line_bytes != config_.limits.max_request_line_bytes ||
      config.limits.max_connections != config_.limits.max_connections ||
      config.limits.max_buffered_body_bytes != config_.limits.max_buffered_body_bytes ||
      config.limits.header_timeout != config_.limits.header_timeout ||
      config.limits.idle_timeout != config_.limits.idle_timeout ||
      config.limits.send_timeout != config_.limits.send_timeout) {
    fixed.emplace_back("limits");
  }
  if (config.security.audit.path != config_.security.audit.path ||
      config.security.audit.ecs_path != config_.security.audit.ecs_path) {
    fixed.emplace_back("security.audit");
  }
  if (!fixed.empty()) {
    DW_LOG_WARN("reload: {} take effect at the next restart", fmt::join(fixed, ", "));
  }
  if (config.limits.max_memory_bytes != config_.limits.max_memory_bytes) {
    memory_guard_ =
        MemoryGuard(effectiveMemoryLimit(config.limits.max_memory_bytes, cgroupMemoryLimit()));
  }
  // Roles and bindings of the file first: a file that names an unknown role keeps the old one.
  if (access_ != nullptr) {
    DW_RETURN_IF_ERROR(access_->reconfigure(config.security));
  }
  // The file's routing wins at a reload, and is what the state file holds from now on.
  route_state_->setFile(config);
  DW_RETURN_IF_ERROR(route_state_->save(config));
  config_ = std::move(config);
  public_metrics_.store(config_.security.public_metrics);
  routes_.publish(registry_.build(config_));
  health_->start(config_.health_check);
  reloads_ok_.fetch_add(1);
  DW_LOG_INFO("configuration {} loaded: {} models", config_.file, config_.models.size());
  return okStatus();
}

Status Gateway::setWeights(const std::string& model_name, std::string_view body,
                           std::string* result) {
  json request = json::parse(body.begin(), body.end(), nullptr, false);
  if (request.is_discarded() || !request.is_object() || !request.contains("weights") ||
      !request["weights"].is_object()) {
    return invalidArgument("the body must be {\"weights\": {\"<version>\": <weight>, ...}}");
  }
  GatewayConfig next = config_;
  ModelConfig* model = nullptr;
  for (ModelConfig& m : next.models) {
    if (m.name == model_name ||
        std::find(m.aliases.begin(), m.aliases.end(), model_name) != m.aliases.end()) {
      model = &m;
    }
  }
  if (model == nullptr) {
    return notFound(fmt::format("no model '{}'", model_name));
  }
  for (auto& item : request["weights"].items()) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& version_id = item.key();
    const json& weight = item.value();
    auto it = std::find_if(model->versions.begin(), model->versions.end(),
                           [&](const VersionConfig& v) { return v.id == version_id; });
    if (it == model->versions.end()) {
      return notFound(fmt::format("model '{}' has no version '{}'", model->name, version_id));
    }
    if (!weight.is_number() || weight.get<double>() < 0 || weight.get<double>() > 1e9) {
      return invalidArgument(fmt::format("the weight of '{}' must be a number >= 0", version_id));
    }
    it->weight = weight.get<double>();
  }
  double primary = 0;
  for (const VersionConfig& v : model->versions) {
    if (v.track != Track::kStandby) {
      primary += v.weight;
    }
  }
  if (primary <= 0) {
    return invalidArgument("at least one stable or canary version needs a weight above 0");
  }
  DW_RETURN_IF_ERROR(route_state_->save(next));  // Durable before it is acknowledged (R9).
  config_ = std::move(next);
  public_metrics_.store(config_.security.public_metrics);
  routes_.publish(registry_.build(config_));
  weight_changes_.fetch_add(1);
  for (const auto& hook : routes_hooks_) {
    hook(config_);
  }
  DW_LOG_INFO("weights of model {} changed through the admin API", model_name);
  *result = modelsJson();
  return okStatus();
}

std::string Gateway::modelsJson() const {
  auto table = routes_.load();
  json models = json::array();
  for (const auto& model : table->models()) {
    json versions = json::array();
    for (const VersionRoute& version : model->versions) {
      json replicas = json::array();
      for (size_t i = 0; i < version.replicas.size(); ++i) {
        const Replica& replica = *version.replicas[i];
        // healthy: in rotation (optimistic until a check says otherwise); checked: it has passed
        // a health check at least once (a replica still loading has not).
        json entry = {{"url", replica.url},
                      {"healthy", replica.healthy.load()},
                      {"checked", replica.last_check_ok_ns.load() > 0}};
        if (!version.zones[i].empty()) {
          entry["zone"] = version.zones[i];
          entry["local"] = i < version.local_replicas;
        }
        replicas.push_back(std::move(entry));
      }
      versions.push_back({{"id", version.id},
                          {"track", trackName(version.track)},
                          {"weight", version.weight},
                          {"upstream_model", version.upstream_model},
                          {"replicas", std::move(replicas)}});
    }
    models.push_back({{"name", model->config.name},
                      {"aliases", model->config.aliases},
                      {"versions", std::move(versions)}});
  }
  return json{{"models", std::move(models)}}.dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace);
}

bool Gateway::ready() const {
  if (draining_.load()) {
    return false;
  }
  // Ready once some replica passed a health check: routing is optimistic about a replica not
  // checked yet, readiness is not (a new gateway pod gets no traffic it would fail).
  auto table = routes_.load();
  for (const auto& model : table->models()) {
    for (const VersionRoute& version : model->versions) {
      for (const auto& replica : version.replicas) {
        if (replica->healthy.load() && replica->last_check_ok_ns.load() > 0) {
          return true;
        }
      }
    }
  }
  return false;
}

std::string Gateway::renderMetrics(observe::ExpositionFormat format) const {
  auto table = routes_.load();
  observe::ExpositionWriter w(format);
  const std::string& ns = metrics_ns_;
  auto name = [&](std::string_view suffix) { return ns + "_" + std::string(suffix); };
  w.family(name("build_info"), "gauge", "The running deepwatch build.");
  w.sample(name("build_info"), {{"version", DW_VERSION}}, 1);
  if (auto snapshot = aggregator_->snapshot()) {
    observe::writeObserved(w, *snapshot, ns);
  }
  for (const auto& source : metrics_sources_) {
    source(w);
  }
  static constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
  w.family(name("gateway_responses_total"), "counter",
           "Responses to API requests by model and status class.");
  std::vector<std::string> names(WorkerMetrics::kMaxModels, "other");
  for (const auto& model : table->models()) {
    names[WorkerMetrics::modelRow(model->id)] = model->config.name;
  }
  for (int row = 0; row < WorkerMetrics::kMaxModels; ++row) {
    for (int c = 0; c < WorkerMetrics::kCodeClasses; ++c) {
      uint64_t total = 0;
      for (const auto& proxy : proxies_) {
        total += proxy->metrics().responses[row][c].get();
      }
      if (total > 0) {
        w.sample(name("gateway_responses_total"), {{"model", names[row]}, {"code", kClasses[c]}},
                 static_cast<double>(total));
      }
    }
  }
  // The zone from the routing snapshot: config_ belongs to the control thread, and this runs on
  // an admin worker too (found by make test-tsan).
  const std::string& zone = table->config().zone;
  if (!zone.empty()) {
    w.family(name("cross_zone_requests_total"), "counter",
             "Tries sent to another zone because none of this gateway's zone was usable (R9).");
    for (const auto& model : table->models()) {
      uint64_t total = 0;
      for (const auto& proxy : proxies_) {
        total += proxy->metrics().cross_zone[WorkerMetrics::modelRow(model->id)].get();
      }
      w.sample(name("cross_zone_requests_total"), {{"model", model->config.name}, {"zone", zone}},
               static_cast<double>(total));
    }
  }
  w.family(name("upstream_errors_total"), "counter", "Failed upstream attempts by reason.");
  for (int r = 0; r < static_cast<int>(UpstreamError::kCount); ++r) {
    uint64_t total = 0;
    for (const auto& proxy : proxies_) {
      total += proxy->metrics().upstream_errors[r].get();
    }
    w.sample(name("upstream_errors_total"), {{"reason", kUpstreamErrorNames[r]}},
             static_cast<double>(total));
  }
  w.family(name("upstream_ejections_total"), "counter",
           "Replicas taken out of rotation by a worker's outlier detection, by reason (each "
           "worker ejects on its own).");
  for (const auto& model : table->models()) {
    for (const VersionRoute& version : model->versions) {
      for (const auto& replica : version.replicas) {
        for (size_t r = 0; r < replica->ejections.size(); ++r) {
          w.sample(name("upstream_ejections_total"),
                   {{"model", model->config.name},
                    {"version", version.id},
                    {"replica", replica->url},
                    {"reason", kEjectionReasonNames[r]}},
                   static_cast<double>(replica->ejections[r].load(std::memory_order_relaxed)));
        }
      }
    }
  }
  writeFeedbackMetrics(w, ns, feedback_->book(), [this](int series, observe::SeriesName* n) {
    return nameSeries(series, n);
  });
  w.family(name("input_pii_total"), "counter",
           "Personal data found in requests, by model and type (R7).");
  for (const auto& model : table->models()) {
    const int row = WorkerMetrics::modelRow(model->id);
    for (size_t t = 0; t < security::kPiiTypeCount; ++t) {
      uint64_t total = 0;
      for (const auto& proxy : proxies_) {
        total += proxy->metrics().pii[row][t].get();
      }
      w.sample(name("input_pii_total"),
               {{"model", model->config.name},
                {"type", std::string(security::piiTypeName(static_cast<security::PiiType>(t)))}},
               static_cast<double>(total));
    }
  }
  w.family(name("gateway_local_replies_total"), "counter",
           "Requests the gateway answered itself, by reason.");
  for (int r = 0; r < static_cast<int>(LocalReply::kCount); ++r) {
    uint64_t total = 0;
    for (const auto& proxy : proxies_) {
      total += proxy->metrics().local_replies[r].get();
    }
    w.sample(name("gateway_local_replies_total"), {{"reason", kLocalReplyNames[r]}},
             static_cast<double>(total));
  }
  uint64_t retries = 0;
  uint64_t streams = 0;
  uint64_t unbuffered = 0;
  int64_t in_flight = 0;
  for (const auto& proxy : proxies_) {
    retries += proxy->metrics().retries.get();
    streams += proxy->metrics().streams.get();
    unbuffered += proxy->metrics().unbuffered_responses.get();
    in_flight += static_cast<int64_t>(proxy->metrics().in_flight.get());
  }
  w.family(name("upstream_retries_total"), "counter", "Retries on another replica.");
  w.sample(name("upstream_retries_total"), {}, static_cast<double>(retries));
  w.family(name("streams_total"), "counter", "Event streams relayed.");
  w.sample(name("streams_total"), {}, static_cast<double>(streams));
  w.family(name("gateway_unbuffered_responses_total"), "counter",
           "Non-streamed answers larger than limits.max_buffered_response_bytes, relayed as they "
           "arrived (not retried, output not observed).");
  w.sample(name("gateway_unbuffered_responses_total"), {}, static_cast<double>(unbuffered));
  w.family(name("gateway_connections"), "gauge", "Open client connections on the API listener.");
  w.sample(name("gateway_connections"), {}, static_cast<double>(api_->openConnections()));
  w.family(name("gateway_connections_rejected_total"), "counter",
           "Client connections closed at accept: the listener was at limits.max_connections.");
  w.sample(name("gateway_connections_rejected_total"), {},
           static_cast<double>(api_->rejectedConnections()));
  w.family(name("gateway_requests_shed_total"), "counter",
           "Requests answered 503 before their body was read: past limits.max_buffered_body_bytes "
           "(body_budget) or limits.max_memory_bytes (memory).");
  w.sample(name("gateway_requests_shed_total"), {{"reason", "body_budget"}},
           static_cast<double>(api_->shedRequests()));
  w.sample(name("gateway_requests_shed_total"), {{"reason", "memory"}},
           static_cast<double>(api_->shedForMemory()));
  w.family(name("gateway_memory_limit_bytes"), "gauge",
           "Resident memory past which requests are shed (limits.max_memory_bytes); 0: none.");
  w.sample(name("gateway_memory_limit_bytes"), {},
           static_cast<double>(memory_limit_.load(std::memory_order_relaxed)));
  w.family(name("gateway_memory_shedding"), "gauge",
           "1 while new requests are shed because resident memory passed its limit.");
  w.sample(name("gateway_memory_shedding"), {},
           memory_shedding_.load(std::memory_order_relaxed) ? 1.0 : 0.0);
  w.family(name("process_heap_bytes"), "gauge",
           "The gateway's malloc heap: in_use (allocated) and reserved (taken from the kernel).");
  w.sample(name("process_heap_bytes"), {{"state", "in_use"}},
           static_cast<double>(heap_in_use_.load(std::memory_order_relaxed)));
  w.sample(name("process_heap_bytes"), {{"state", "reserved"}},
           static_cast<double>(heap_reserved_.load(std::memory_order_relaxed)));
  w.family(name("requests_in_flight"), "gauge", "API requests being handled.");
  w.sample(name("requests_in_flight"), {}, static_cast<double>(in_flight));
  w.family(name("replica_up"), "gauge", "1 when the replica passes its health checks.");
  for (const auto& model : table->models()) {
    for (const VersionRoute& version : model->versions) {
      for (const auto& replica : version.replicas) {
        w.sample(
            name("replica_up"),
            {{"model", model->config.name}, {"version", version.id}, {"replica", replica->url}},
            replica->healthy.load() ? 1 : 0);
      }
    }
  }
  w.family(name("queue_length"), "gauge",
           "Requests waiting for a model's concurrency limit in the gateway (R3).");
  w.family(name("in_flight_requests"), "gauge", "Requests being handled, per model.");
  for (const auto& model : table->models()) {
    const int row = WorkerMetrics::modelRow(model->id);
    int64_t queued = 0;
    int64_t active = 0;
    for (const auto& proxy : proxies_) {
      queued += static_cast<int64_t>(proxy->metrics().queued[row].get());
      active += static_cast<int64_t>(proxy->metrics().active[row].get());
    }
    w.sample(name("queue_length"), {{"model", model->config.name}}, static_cast<double>(queued));
    w.sample(name("in_flight_requests"), {{"model", model->config.name}},
             static_cast<double>(active));
  }
  writeResources(w, *table);
  w.family(name("config_reloads_total"), "counter", "Configuration reloads by result.");
  w.sample(name("config_reloads_total"), {{"result", "success"}},
           static_cast<double>(reloads_ok_.load()));
  w.sample(name("config_reloads_total"), {{"result", "failure"}},
           static_cast<double>(reloads_failed_.load()));
  return w.release();
}

void Gateway::writeResources(observe::ExpositionWriter& w, const RoutingTable& table) const {
  const std::string& ns = metrics_ns_;
  auto name = [&](std::string_view suffix) { return ns + "_resource_" + std::string(suffix); };
  const ResourceReadings readings = resources_->readings();
  struct EngineFamily {
    const char* suffix;
    const char* help;
    double observe::EngineResources::*field;
  };
  const EngineFamily engine[] = {
      {"queue_length", "Requests waiting in a replica's engine (vllm:num_requests_waiting...).",
       &observe::EngineResources::queue_length},
      {"running_requests", "Requests running in a replica's engine.",
       &observe::EngineResources::running_requests},
      {"kv_cache_usage_ratio", "A replica's KV-cache use, 0..1.",
       &observe::EngineResources::kv_cache_usage_ratio},
      {"gpu_utilization_ratio", "A replica's GPU utilisation, 0..1 (DCGM exporter).",
       &observe::EngineResources::gpu_utilization_ratio},
      {"gpu_memory_used_bytes", "A replica's GPU memory in use (DCGM exporter).",
       &observe::EngineResources::gpu_memory_used_bytes},
  };
  auto each_replica = [&](auto&& fn) {
    for (const auto& model : table.models()) {
      for (const VersionRoute& version : model->versions) {
        for (const auto& replica : version.replicas) {
          auto it = readings.replicas.find(replica->id);
          if (it != readings.replicas.end()) {
            fn(model->config.name, version.id, replica->url, it->second);
          }
        }
      }
    }
  };
  for (const EngineFamily& f : engine) {
    w.family(name(f.suffix), "gauge", f.help);
    each_replica([&](const std::string& model, const std::string& version, const std::string& url,
                     const ReplicaReading& r) {
      const double v = r.engine.*f.field;
      if (r.scraped && !std::isnan(v)) {
        w.sample(name(f.suffix), {{"model", model}, {"version", version}, {"replica", url}}, v);
      }
    });
  }
  w.family(name("network_latency_seconds"), "gauge",
           "Gateway to replica: TCP connect time and the kernel's smoothed round-trip time.");
  each_replica([&](const std::string& model, const std::string& version, const std::string& url,
                   const ReplicaReading& r) {
    if (!std::isnan(r.connect_seconds)) {
      w.sample(name("network_latency_seconds"),
               {{"model", model}, {"version", version}, {"replica", url}, {"kind", "connect"}},
               r.connect_seconds);
    }
    if (!std::isnan(r.rtt_seconds)) {
      w.sample(name("network_latency_seconds"),
               {{"model", model}, {"version", version}, {"replica", url}, {"kind", "rtt"}},
               r.rtt_seconds);
    }
  });
  const observe::HostReading& host = readings.host;
  w.family(name("host_cpu_utilization_ratio"), "gauge", "The gateway host's CPU use, 0..1.");
  if (!std::isnan(host.cpu_utilization_ratio)) {
    w.sample(name("host_cpu_utilization_ratio"), {}, host.cpu_utilization_ratio);
  }
  w.family(name("host_memory_used_bytes"), "gauge", "The gateway host's memory in use.");
  if (!std::isnan(host.memory_used_bytes)) {
    w.sample(name("host_memory_used_bytes"), {}, host.memory_used_bytes);
  }
  w.family(name("process_resident_bytes"), "gauge", "The gateway's resident memory.");
  if (!std::isnan(host.process_resident_bytes)) {
    w.sample(name("process_resident_bytes"), {}, host.process_resident_bytes);
  }
  w.family(name("host_gpu_utilization_ratio"), "gauge",
           "GPU utilisation on the gateway host (NVML), 0..1.");
  w.family(name("host_gpu_memory_used_bytes"), "gauge", "GPU memory in use on the gateway host.");
  for (const observe::GpuReading& gpu : host.gpus) {
    const std::string index = std::to_string(gpu.index);
    w.sample(name("host_gpu_utilization_ratio"), {{"gpu", index}}, gpu.utilization_ratio);
    w.sample(name("host_gpu_memory_used_bytes"), {{"gpu", index}}, gpu.memory_used_bytes);
  }
}

std::string Gateway::auditJson(const net::Request& request) {
  // GET /admin/v1/audit?actor=&operation=&target=&outcome=&after_seq=&limit= (default 100).
  std::string_view target = request.target();
  std::string_view query =
      target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);
  security::AuditFilter filter;
  filter.limit = 100;
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query = pair.size() < query.size() ? query.substr(pair.size() + 1) : "";
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    std::string_view key = pair.substr(0, eq);
    std::string value(pair.substr(eq + 1));
    int64_t number = 0;
    std::from_chars(value.data(), value.data() + value.size(), number);
    if (key == "actor") {
      filter.actor = value;
    } else if (key == "operation") {
      filter.operation = value;
    } else if (key == "target") {
      filter.target = value;
    } else if (key == "outcome") {
      filter.outcome = security::parseAuditOutcome(value);
    } else if (key == "after_seq") {
      filter.after_seq = number;
    } else if (key == "limit") {
      filter.limit = std::clamp<int64_t>(number, 1, 10000);
    }
  }
  auto entries = audit_->log().list(filter);
  if (!entries.ok()) {
    return net::openAiErrorJson(entries.status().message(), "server_error", "", "audit_error");
  }
  std::string out = "{\"entries\":[";
  for (size_t i = 0; i < entries->size(); ++i) {
    out += i == 0 ? "" : ",";
    out += security::ecsLine((*entries)[i]);
  }
  out += "]}";
  return out;
}

Status Gateway::loadPiiKey(GatewayConfig& config) {
  // The HMAC key of the PII hash mode: the same value maps to the same token across restarts,
  // and nobody without the key can test a guess against a token.
  const std::string file = config.security.pii.hash_key_file.empty()
                               ? config.state_dir + "/pii.key"
                               : config.security.pii.hash_key_file;
  DW_ASSIGN_OR_RETURN(config.security.pii.hash_key, security::readOrCreateSecret(file));
  return okStatus();
}

StatusOr<observe::Baseline> Gateway::privateBaseline(const observe::Baseline& baseline) {
  // One release of every bin of every histogram and the request count, each a count that one
  // request changes by at most 1 per histogram (sensitivity 1 per histogram; the histograms are
  // released together, so epsilon is split evenly between them).
  std::vector<int64_t> counts;
  counts.push_back(static_cast<int64_t>(baseline.requests));
  for (const auto& [feature, bins] : baseline.histograms) {
    for (double bin : bins) {
      counts.push_back(static_cast<int64_t>(std::llround(bin)));
    }
  }
  const double epsilon = config_.security.privacy.epsilon;
  const auto histograms = static_cast<double>(baseline.histograms.size() + 1);
  const std::string release = "baseline/" + baseline.model;
  DW_RETURN_IF_ERROR(ledger_->setBudget(release, config_.security.privacy.budget));
  // The whole epsilon is paid (durably) before anything is released; each histogram's noise
  // uses its share (sequential composition).
  DW_RETURN_IF_ERROR(ledger_->spend(release, epsilon, "public baseline export", wallClockMs()));
  DW_ASSIGN_OR_RETURN(std::vector<int64_t> noisy,
                      security::addDiscreteLaplace(counts, epsilon / histograms));
  observe::Baseline out = baseline;
  size_t i = 0;
  out.requests = static_cast<uint64_t>(std::max<int64_t>(0, noisy[i++]));
  for (auto& [feature, bins] : out.histograms) {
    for (double& bin : bins) {
      bin = static_cast<double>(std::max<int64_t>(0, noisy[i++]));
    }
  }
  return out;
}

std::string Gateway::stableVersion(const std::string& model) const {
  auto table = routes_.load();
  const ModelRoute* route = table ? table->find(model) : nullptr;
  std::string best;
  double weight = -1;
  for (size_t i = 0; route != nullptr && i < route->versions.size(); ++i) {
    const VersionRoute& v = route->versions[i];
    if (v.track == Track::kStable && v.weight > weight) {
      best = v.id;
      weight = v.weight;
    }
  }
  return best;
}

security::AuditRecord Gateway::auditRecord(const net::Request& request, const AdminCaller& caller,
                                           const AdminPermission& need) const {
  // The operation's name: the verb on a model (deploy, rollback, promote...), else what it does
  // to which kind of object.
  static const std::map<std::pair<std::string, std::string>, std::string> kNames = {
      {{"models", "update"}, "weights"},           {{"settings", "tune"}, "tune"},
      {{"config", "reload"}, "config_reload"},     {{"keys", "create"}, "key_create"},
      {{"keys", "delete"}, "key_revoke"},          {{"rolebindings", "create"}, "role_bind"},
      {{"rolebindings", "update"}, "role_bind"},   {{"rolebindings", "delete"}, "role_unbind"},
      {{"roles", "create"}, "role_create"},        {{"roles", "update"}, "role_create"},
      {{"roles", "delete"}, "role_delete"},        {{"baselines", "create"}, "baseline_capture"},
      {{"baselines", "update"}, "baseline_import"}};
  security::AuditRecord r;
  r.actor = caller.actor.empty() ? "anonymous" : caller.actor;
  r.actor_kind = security::ActorKind::kPerson;
  auto named = kNames.find({need.resource, need.verb});
  r.operation = named != kNames.end()       ? named->second
                : need.resource == "models" ? need.verb
                                            : need.resource + "_" + need.verb;
  nlohmann::json body = nlohmann::json::parse(request.body(), nullptr, false);
  r.target = need.resource + (need.name.empty() ? "" : "/" + need.name);
  if (body.is_object()) {
    if (body.contains("version") && body["version"].is_string()) {
      r.target += ":" + body["version"].get<std::string>();
    } else if (need.resource == "keys" && body.contains("name") && body["name"].is_string()) {
      r.target += "/" + body["name"].get<std::string>();
    }
    if (body.contains("reason") && body["reason"].is_string()) {
      r.reason = body["reason"].get<std::string>();
    }
  }
  if (need.resource == "models" && !need.name.empty()) {
    r.version_before = stableVersion(need.name);
  }
  r.rbac_decision = security::RbacDecision::kAllow;
  r.rbac_reason = caller.rbac_reason.empty() ? "RBAC: authentication is off" : caller.rbac_reason;
  r.source_ip = caller.source_ip;
  return r;
}

asio::awaitable<bool> Gateway::admitAdmin(net::Exchange& exchange, AdminCaller* caller,
                                          AdminPermission* need_out) {
  // R7: default deny. Every admin request names a permission (permissionFor); the caller's key
  // must authenticate and RBAC must allow it. The decision goes to the audit log with the
  // operation (R8).
  const net::Request& request = exchange.request();
  caller->source_ip = exchange.remoteAddress();
  std::shared_ptr<const security::AccessPolicy> policy = access_policy_.load();
  const AdminPermission need = permissionFor(request, public_metrics_.load());
  *need_out = need;
  if (!policy->enabled() || need.kind == AdminPermission::Kind::kPublic) {
    co_return true;
  }
  constexpr std::string_view kJson = "application/json";
  auto it = request.find(http::field::authorization);
  const std::string_view token =
      it == request.end() ? std::string_view() : security::bearerToken(it->value());
  const security::Principal* principal =
      token.empty() ? nullptr : policy->authenticate(token, wallClockMs());
  if (principal == nullptr) {
    net::Response response(http::status::unauthorized, 11);
    response.set(http::field::content_type, kJson);
    response.set(http::field::www_authenticate, "Bearer realm=\"deepwatch\"");
    response.body() = net::openAiErrorJson(
        token.empty() ? "You didn't provide an API key. Send it in the Authorization header as "
                        "'Bearer YOUR_KEY'."
                      : "Incorrect API key provided.",
        "invalid_request_error", "", token.empty() ? "missing_api_key" : "invalid_api_key");
    co_await exchange.respond(std::move(response));
    co_return false;
  }
  caller->actor = principal->user;
  caller->groups = principal->groups;
  if (need.kind == AdminPermission::Kind::kAuthenticated) {
    co_return true;
  }
  const security::Permission permission{security::kApiGroup, need.resource, need.verb, need.name};
  caller->rbac_reason = policy->rbac().explain(*principal, permission);
  if (!policy->rbac().allowed(*principal, permission)) {
    DW_LOG_WARN("admin: {} denied {} {} ({})", principal->user, request.method_string(),
                request.target().substr(0, 200), caller->rbac_reason);
    if (need.mutating) {
      security::AuditRecord denied = auditRecord(request, *caller, need);
      denied.rbac_decision = security::RbacDecision::kDeny;
      denied.outcome = security::AuditOutcome::kDenied;
      (void)audit_->record(denied);
    }
    co_await net::respondText(
        exchange, http::status::forbidden, kJson,
        net::openAiErrorJson(caller->rbac_reason, "permission_error", "", "permission_denied"));
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Gateway::handleAdmin(net::Exchange& exchange) {
  const net::Request& request = exchange.request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kJson = "application/json";
  AdminCaller caller;
  AdminPermission need;
  if (!co_await admitAdmin(exchange, &caller, &need)) {
    co_return;
  }
  // R8: an operation runs only once its audit entry is durable (the `request` stage); its
  // outcome is the `response` entry.
  std::optional<security::AuditRecord> audited;
  std::string request_audit_id;
  if (need.mutating && need.kind == AdminPermission::Kind::kRbac &&
      path.starts_with("/admin/v1/")) {
    audited = auditRecord(request, caller, need);
    security::AuditRecord first = *audited;
    first.details_json = nlohmann::json{
        {"stage", "request"},
        {"method", request.method_string()},
        {"path", path}}.dump();
    auto entry = audit_->record(first);
    if (!entry.ok()) {
      co_await net::respondText(
          exchange, http::status::service_unavailable, kJson,
          net::openAiErrorJson("The audit log cannot be written, so the operation is refused.",
                               "server_error", "", "audit_unavailable"));
      co_return;
    }
    request_audit_id = entry->audit_id;
  }
  co_await dispatchAdmin(exchange, caller);
  if (audited) {
    const unsigned status = exchange.responseStatus();
    audited->outcome = status >= 200 && status < 300 ? security::AuditOutcome::kSuccess
                                                     : security::AuditOutcome::kFailure;
    if (need.resource == "models" && !need.name.empty()) {
      audited->version_after = stableVersion(need.name);
    }
    audited->details_json = nlohmann::json{
        {"stage", "response"},
        {"status", status},
        {"request_audit_id",
         request_audit_id}}.dump();
    const bool model_op = need.resource == "models" && !need.name.empty() &&
                          audited->outcome == security::AuditOutcome::kSuccess;
    (void)audit_->record(*audited, model_op ? need.name : "");
  }
}

asio::awaitable<void> Gateway::dispatchAdmin(net::Exchange& exchange, const AdminCaller& caller) {
  const net::Request& request = exchange.request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const bool is_get = request.method() == http::verb::get;
  constexpr std::string_view kJson = "application/json";
  if (path == "/healthz" && is_get) {
    co_await net::respondText(exchange, http::status::ok, kJson, R"({"status":"ok"})");
  } else if (path == "/readyz" && is_get) {
    const bool is_ready = ready();
    co_await net::respondText(
        exchange, is_ready ? http::status::ok : http::status::service_unavailable, kJson,
        is_ready ? R"({"status":"ready"})" : R"({"status":"not ready"})");
  } else if (path == "/metrics" && is_get) {
    const auto format = observe::negotiateFormat(request[http::field::accept]);
    co_await net::respondText(exchange, http::status::ok, observe::contentType(format),
                              renderMetrics(format));
  } else if (Dashboard::handles(path)) {
    // R6: the web dashboard's static files (public; all its data comes from the admin API).
    co_await exchange.respond(dashboard_.respond(request));
  } else if (path == "/admin/v1/models" && is_get) {
    co_await net::respondText(exchange, http::status::ok, kJson, modelsJson());
  } else if (path.starts_with("/admin/v1/models/") && path.ends_with("/weights") &&
             request.method() == http::verb::put) {
    std::string model(path.substr(17, path.size() - 17 - 8));
    std::string result;
    Status status = onControl([&] { return setWeights(model, request.body(), &result); });
    if (status.ok()) {
      co_await net::respondText(exchange, http::status::ok, kJson, std::move(result));
    } else {
      const int code = httpStatusFor(status.code());
      const std::string type = code >= 500 ? "server_error" : "invalid_request_error";
      co_await net::respondText(exchange, static_cast<http::status>(code), kJson,
                                net::openAiErrorJson(status.message(), type, "", ""));
    }
  } else if (auto route = std::find_if(admin_routes_.begin(), admin_routes_.end(),
                                       [&](const auto& r) { return path.starts_with(r.first); });
             route != admin_routes_.end()) {
    AdminReply reply = onControl([&] { return route->second(request, caller); });
    co_await net::respondText(exchange, static_cast<http::status>(reply.status), kJson,
                              std::move(reply.body));
  } else if (path == "/admin/v1/audit" && is_get) {
    co_await net::respondText(exchange, http::status::ok, kJson, auditJson(request));
  } else if (path == "/admin/v1/whoami" || path.starts_with("/admin/v1/keys") ||
             path.starts_with("/admin/v1/roles") || path.starts_with("/admin/v1/rolebindings")) {
    auto reply = onControl([&] {
      std::vector<std::string> models;
      for (const ModelConfig& m : config_.models) {
        models.push_back(m.name);
      }
      return access_->handle(request, caller, models);
    });
    if (!reply) {
      reply = AccessControl::Reply{
          404,
          net::openAiErrorJson("Unknown admin path.", "invalid_request_error", "", "unknown_url")};
    }
    co_await net::respondText(exchange, static_cast<http::status>(reply->status), kJson,
                              std::move(reply->body));
  } else if (path.starts_with("/admin/v1/baselines/")) {
    co_await handleBaseline(exchange, std::string(path.substr(20)));
  } else if (path == "/admin/v1/reload" && request.method() == http::verb::post) {
    Status status = reload();
    // A local, not a conditional temporary inside co_await: g++ 12 destroys those twice.
    std::string body = status.ok() ? R"({"status":"reloaded"})"
                                   : net::openAiErrorJson(status.message(), "invalid_request_error",
                                                          "", "invalid_config");
    co_await net::respondText(exchange, status.ok() ? http::status::ok : http::status::bad_request,
                              kJson, std::move(body));
  } else {
    co_await net::respondText(
        exchange, http::status::not_found, kJson,
        net::openAiErrorJson("Unknown admin path.", "invalid_request_error", "", "unknown_url"));
  }
}

asio::awaitable<void> Gateway::handleBaseline(net::Exchange& exchange, std::string model) {
  const net::Request& request = exchange.request();
  constexpr std::string_view kJson = "application/json";
  std::string json;
  Status status;
  if (request.method() == http::verb::post) {
    // POST /admin/v1/baselines/{model}[?window=5m]: capture from a window.
    std::string window;
    std::string_view target = request.target();
    if (size_t q = target.find("window="); q != std::string_view::npos) {
      window = std::string(target.substr(q + 7, target.find('&', q) - q - 7));
    }
    status = onControl([&] { return captureBaseline(model, window, &json); });
  } else if (request.method() == http::verb::put) {
    status = onControl([&] { return importBaseline(model, request.body(), &json); });
  } else if (request.method() == http::verb::get) {
    status = onControl([&]() -> Status {
      auto table = routes_.load();
      const ModelRoute* route = table->find(model);
      const observe::Baseline* baseline =
          route == nullptr ? nullptr : aggregator_->baseline(route->config.name);
      if (baseline == nullptr) {
        return notFound("model '" + model + "' has no baseline");
      }
      if (request.target().find("public=true") == std::string_view::npos) {
        json = baseline->toJson();
        return okStatus();
      }
      // R7: the public view leaves the system, so its counts get discrete Laplace noise, paid
      // from the model's privacy budget (the ledger refuses past it).
      DW_ASSIGN_OR_RETURN(observe::Baseline noisy, privateBaseline(*baseline));
      json = noisy.toJson();
      return okStatus();
    });
  } else {
    status = invalidArgument("use GET, POST (capture) or PUT (import)");
  }
  if (status.ok()) {
    co_await net::respondText(exchange, http::status::ok, kJson, std::move(json));
  } else {
    co_await net::respondText(
        exchange, static_cast<http::status>(httpStatusFor(status.code())), kJson,
        net::openAiErrorJson(status.message(), "invalid_request_error", "", ""));
  }
}

void Gateway::stop() {
  if (draining_.exchange(true)) {
    return;
  }
  if (api_) {
    api_->stop();
  }
  if (admin_) {
    admin_->stop();
  }
  if (control_thread_.joinable()) {
    asio::post(control_io_, [this] {
      health_->stop();
      resources_->stop();
      if (tick_timer_) {
        tick_timer_->cancel();
      }
      if (memory_timer_) {
        memory_timer_->cancel();
      }
    });
    control_work_.reset();
    control_io_.stop();
    control_thread_.join();
  }
}

}  // namespace dw::gateway
