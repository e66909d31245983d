#include "gateway/gateway.h"

#include <fmt/format.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.h"
#include "net/json_error.h"
#include "observe/exposition.h"

namespace dw::gateway {

namespace http = net::http;
using json = nlohmann::ordered_json;

Gateway::Gateway(GatewayConfig config) : config_(std::move(config)) {}

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
  uint64_t seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int i = 0; i < workers; ++i) {
    proxies_.push_back(std::make_unique<Proxy>(routes_, api_->watchdog(i), workers, seed + i));
  }
  health_ = std::make_unique<HealthChecker>(control_io_, [this] { return registry_.replicas(); });
  routes_.publish(registry_.build(config_));
  return okStatus();
}

void Gateway::start() {
  control_work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      control_io_.get_executor());
  control_thread_ = std::thread([this] { control_io_.run(); });
  onControl([this] {
    health_->start(config_.health_check);
    return 0;
  });
  api_->start();
  admin_->start();
}

template <typename F>
auto Gateway::onControl(F work) -> decltype(work()) {
  using Result = decltype(work());
  std::promise<Result> promise;
  auto future = promise.get_future();
  asio::post(control_io_, [&] { promise.set_value(work()); });
  return future.get();
}

Status Gateway::reload() {
  auto loaded = loadGatewayConfig(config_.file);
  if (!loaded.ok()) {
    reloads_failed_.fetch_add(1);
    return loaded.status();
  }
  return onControl([&] { return applyConfig(std::move(loaded).value()); });
}

Status Gateway::applyConfig(GatewayConfig config) {
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
      config.limits.header_timeout != config_.limits.header_timeout ||
      config.limits.idle_timeout != config_.limits.idle_timeout ||
      config.limits.send_timeout != config_.limits.send_timeout) {
    fixed.emplace_back("limits");
  }
  if (!fixed.empty()) {
    DW_LOG_WARN("reload: {} take effect at the next restart", fmt::join(fixed, ", "));
  }
  config_ = std::move(config);
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
  for (auto& [version_id, weight] : request["weights"].items()) {
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
  config_ = std::move(next);
  routes_.publish(registry_.build(config_));
  weight_changes_.fetch_add(1);
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
      for (const auto& replica : version.replicas) {
        replicas.push_back({{"url", replica->url}, {"healthy", replica->healthy.load()}});
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
  auto table = routes_.load();
  for (const auto& model : table->models()) {
    for (const VersionRoute& version : model->versions) {
      for (const auto& replica : version.replicas) {
        if (replica->healthy.load()) {
          return true;
        }
      }
    }
  }
  return false;
}

std::string Gateway::renderMetrics() const {
  auto table = routes_.load();
  observe::ExpositionWriter w;
  w.family("deepseek_build_info", "gauge", "The running deepwatch build.");
  w.sample("deepseek_build_info", {{"version", DW_VERSION}}, 1);
  static constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
  w.family("deepseek_gateway_responses_total", "counter",
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
        w.sample("deepseek_gateway_responses_total", {{"model", names[row]}, {"code", kClasses[c]}},
                 static_cast<double>(total));
      }
    }
  }
  w.family("deepseek_upstream_errors_total", "counter", "Failed upstream attempts by reason.");
  for (int r = 0; r < static_cast<int>(UpstreamError::kCount); ++r) {
    uint64_t total = 0;
    for (const auto& proxy : proxies_) {
      total += proxy->metrics().upstream_errors[r].get();
    }
    w.sample("deepseek_upstream_errors_total", {{"reason", kUpstreamErrorNames[r]}},
             static_cast<double>(total));
  }
  w.family("deepseek_gateway_local_replies_total", "counter",
           "Requests the gateway answered itself, by reason.");
  for (int r = 0; r < static_cast<int>(LocalReply::kCount); ++r) {
    uint64_t total = 0;
    for (const auto& proxy : proxies_) {
      total += proxy->metrics().local_replies[r].get();
    }
    w.sample("deepseek_gateway_local_replies_total", {{"reason", kLocalReplyNames[r]}},
             static_cast<double>(total));
  }
  uint64_t retries = 0;
  uint64_t streams = 0;
  int64_t in_flight = 0;
  for (const auto& proxy : proxies_) {
    retries += proxy->metrics().retries.get();
    streams += proxy->metrics().streams.get();
    in_flight += static_cast<int64_t>(proxy->metrics().in_flight.get());
  }
  w.family("deepseek_upstream_retries_total", "counter", "Retries on another replica.");
  w.sample("deepseek_upstream_retries_total", {}, static_cast<double>(retries));
  w.family("deepseek_streams_total", "counter", "Event streams relayed.");
  w.sample("deepseek_streams_total", {}, static_cast<double>(streams));
  w.family("deepseek_requests_in_flight", "gauge", "API requests being handled.");
  w.sample("deepseek_requests_in_flight", {}, static_cast<double>(in_flight));
  w.family("deepseek_replica_up", "gauge", "1 when the replica passes its health checks.");
  for (const auto& model : table->models()) {
    for (const VersionRoute& version : model->versions) {
      for (const auto& replica : version.replicas) {
        w.sample(
            "deepseek_replica_up",
            {{"model", model->config.name}, {"version", version.id}, {"replica", replica->url}},
            replica->healthy.load() ? 1 : 0);
      }
    }
  }
  w.family("deepseek_config_reloads_total", "counter", "Configuration reloads by result.");
  w.sample("deepseek_config_reloads_total", {{"result", "success"}},
           static_cast<double>(reloads_ok_.load()));
  w.sample("deepseek_config_reloads_total", {{"result", "failure"}},
           static_cast<double>(reloads_failed_.load()));
  return w.release();
}

asio::awaitable<void> Gateway::handleAdmin(net::Exchange& exchange) {
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
    co_await net::respondText(exchange, http::status::ok, observe::kPrometheusTextContentType,
                              renderMetrics());
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
      co_await net::respondText(
          exchange, static_cast<http::status>(httpStatusFor(status.code())), kJson,
          net::openAiErrorJson(status.message(), "invalid_request_error", "", ""));
    }
  } else if (path == "/admin/v1/reload" && request.method() == http::verb::post) {
    Status status = reload();
    co_await net::respondText(
        exchange, status.ok() ? http::status::ok : http::status::bad_request, kJson,
        status.ok() ? R"({"status":"reloaded"})"
                    : net::openAiErrorJson(status.message(), "invalid_request_error", "",
                                           "invalid_config"));
  } else {
    co_await net::respondText(
        exchange, http::status::not_found, kJson,
        net::openAiErrorJson("Unknown admin path.", "invalid_request_error", "", "unknown_url"));
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
    asio::post(control_io_, [this] { health_->stop(); });
    control_work_.reset();
    control_io_.stop();
    control_thread_.join();
  }
}

}  // namespace dw::gateway
