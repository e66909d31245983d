#include "gateway/proxy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "base/duration.h"
#include "base/hash.h"
#include "base/log.h"
#include "net/json_error.h"
#include "security/api_keys.h"

namespace dw::gateway {

using net::error_code;
using net::redirect;
using Clock = std::chrono::steady_clock;

namespace http = net::http;
using tcp = net::tcp;

// A keep-alive connection to one replica, owned by one worker.
struct Proxy::UpstreamConnection {
  explicit UpstreamConnection(const asio::any_io_executor& executor)
      : socket(executor), watched(socket) {
    buffer.reserve(16 * 1024);  // A whole typical response in one read (see net::Connection).
  }
  tcp::socket socket;
  net::Watched watched;
  net::beast::flat_buffer buffer;
  Clock::time_point idle_since;
  bool reused = false;
};

// What this worker knows about a replica: its idle connections and passive health.
struct Proxy::ReplicaLocal {
  std::vector<std::unique_ptr<UpstreamConnection>> idle;
  int outstanding = 0;
  int consecutive_failures = 0;
  int ejections = 0;                  // In a row, for the backoff (decays while in rotation).
  Clock::time_point ejected_until{};  // The watchdog's clock.
  Clock::time_point ejected_at{};     // Clock::now() at the last ejection.
  bool lift_on_health = false;        // Ejected for refusing connections: a passed check lifts it.
  LatencyEwma latency;                // Of its answers since the last ejection.
};

// This worker's share of a model's concurrency limit.
struct Proxy::ModelLocal {
  ModelLocal(int capacity, int queue) : limiter(capacity, queue) {}
  net::AsyncSemaphore limiter;
  int capacity = 0;
  int queue = 0;
};

namespace {

// Idle upstream connections older than this are closed rather than reused: uvicorn (vLLM,
// SGLang) closes its keep-alive connections after 5 s, and reusing one it is closing fails.
constexpr auto kUpstreamIdleLimit = std::chrono::seconds(4);
constexpr size_t kMaxIdlePerReplica = 128;
constexpr size_t kRelayBufferBytes = 16 * 1024;
constexpr uint64_t kMaxResponseBodyBytes = 256ULL * 1024 * 1024;

enum class Endpoint { kChat, kCompletions, kEmbeddings, kModels, kModel, kFeedback, kUnknown };

Endpoint classify(std::string_view path) {
  if (path == "/chat/completions") {
    return Endpoint::kChat;
  }
  if (path == "/completions") {
    return Endpoint::kCompletions;
  }
  if (path == "/embeddings") {
    return Endpoint::kEmbeddings;
  }
  if (path == "/models") {
    return Endpoint::kModels;
  }
  if (path.starts_with("/models/")) {
    return Endpoint::kModel;
  }
  if (path == "/feedback") {
    return Endpoint::kFeedback;
  }
  return Endpoint::kUnknown;
}

// Hop-by-hop headers (RFC 9110 7.6.1) and those the gateway writes itself.
bool isHopByHop(std::string_view name) {
  static constexpr std::string_view kSkip[] = {
      "connection", "keep-alive",        "proxy-connection", "te",
      "trailer",    "transfer-encoding", "upgrade",          "content-length",
      "host",       "x-request-id",      "expect",           "proxy-authorization"};
  for (std::string_view skip : kSkip) {
    if (name.size() == skip.size() && net::beast::iequals(name, skip)) {
      return true;
    }
  }
  return false;
}

bool validRequestId(std::string_view id) {
  if (id.empty() || id.size() > 200) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string_view reasonPhrase(int status) {
  std::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
  return reason.empty() ? "Unknown" : reason;
}

Duration remaining(Clock::time_point deadline, Duration op_timeout) {
  if (deadline == Clock::time_point::max()) {
    return op_timeout;
  }
  auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
  return std::max(Duration::zero(), std::min(left, op_timeout));
}

}  // namespace

Proxy::Proxy(const SnapshotSlot<RoutingTable>& routes,
             const SnapshotSlot<security::AccessPolicy>& access, net::Watchdog& watchdog,
             int workers, uint64_t seed, const observe::LabelExtractor& labels, Feedback& feedback,
             int worker)
    : routes_(routes),
      access_(access),
      watchdog_(watchdog),
      workers_(workers),
      random_(seed),
      labels_(labels),
      feedback_(feedback),
      served_(feedback.ledger(worker)) {
  watchdog_.addTickHandler([this] { closeStaleIdle(); });
}

void Proxy::closeStaleIdle() {
  // Pooled connections idle past the limit are never reused (acquire skips them), so they are
  // closed here, once a second, rather than held until a burst of traffic pops them: after a
  // concurrency peak they would otherwise stay open, and the replica's side of them in
  // CLOSE_WAIT, for as long as the worker lives.
  const auto now = watchdog_.now();
  if (now - last_idle_sweep_ < std::chrono::seconds(1)) {
    return;
  }
  last_idle_sweep_ = now;
  for (const auto& local : replicas_) {
    if (local) {
      std::erase_if(local->idle, [&](const std::unique_ptr<UpstreamConnection>& conn) {
        return now - conn->idle_since > kUpstreamIdleLimit;
      });
    }
  }
}

asio::awaitable<const security::Principal*> Proxy::authenticate(
    net::Exchange& exchange, const security::AccessPolicy& policy, const std::string& request_id) {
  // R7: nothing reaches a model without a key. The key is never echoed, logged or counted.
  const net::Request& request = exchange.request();
  auto it = request.find(http::field::authorization);
  const std::string_view token =
      it == request.end() ? std::string_view() : security::bearerToken(it->value());
  const security::Principal* principal =
      token.empty() ? nullptr : policy.authenticate(token, wallClockMs());
  if (principal == nullptr) {
    co_await localReply(exchange, 401, LocalReply::kUnauthenticated,
                        token.empty() ? "You didn't provide an API key. Send it in the "
                                        "Authorization header as 'Bearer YOUR_KEY'."
                                      : "Incorrect API key provided.",
                        "invalid_request_error", "",
                        token.empty() ? "missing_api_key" : "invalid_api_key", request_id, 0);
  }
  co_return principal;
}

Proxy::~Proxy() = default;

Proxy::ReplicaLocal& Proxy::replicaLocal(uint32_t id) {
  if (id >= replicas_.size()) {
    replicas_.resize(id + 1);
  }
  if (!replicas_[id]) {
    replicas_[id] = std::make_unique<ReplicaLocal>();
  }
  return *replicas_[id];
}

Proxy::ModelLocal& Proxy::modelLocal(const ModelRoute& model, const GatewayConfig&) {
  if (model.id >= models_.size()) {
    models_.resize(model.id + 1);
  }
  // This worker's share of the model's limits (docs/design/limits.md).
  const int capacity = (model.config.max_concurrency + workers_ - 1) / workers_;
  const int queue = (model.config.max_queue + workers_ - 1) / workers_;
  auto& local = models_[model.id];
  if (!local) {
    local = std::make_unique<ModelLocal>(capacity, queue);
  } else if (local->capacity != capacity || local->queue != queue) {
    local->limiter.resize(capacity, queue);
  }
  local->capacity = capacity;
  local->queue = queue;
  return *local;
}

bool Proxy::ejected(const Replica& replica) const {
  if (replica.id >= replicas_.size() || !replicas_[replica.id]) {
    return false;
  }
  const ReplicaLocal& local = *replicas_[replica.id];
  if (local.ejected_until <= watchdog_.now()) {
    return false;
  }
  const int64_t ejected_at = local.ejected_at.time_since_epoch().count();
  // Health checks saw it down and back since (a restart, an engine that returned): what this
  // worker saw before is over.
  if (replica.recovered_ns.load(std::memory_order_relaxed) > ejected_at) {
    return false;
  }
  // Ejected for refusing connections: any passed check since means it listens again.
  return !local.lift_on_health ||
         replica.last_check_ok_ns.load(std::memory_order_relaxed) <= ejected_at;
}

bool Proxy::usable(const Replica& replica) const {
  return replica.healthy.load(std::memory_order_relaxed) && replica.resolved && !ejected(replica);
}

void Proxy::recordSuccess(const Replica& replica) {
  ReplicaLocal& local = replicaLocal(replica.id);
  local.consecutive_failures = 0;
  if (local.lift_on_health) {
    local.lift_on_health = false;
    local.ejected_until = {};
  }
}

void Proxy::ejectRefusing(const Replica& replica, const GatewayConfig& config) {
  // Nothing listens there (the process died or is restarting): stop sending to it on this
  // worker at once, until a health check passes again or the base ejection time ends.
  ReplicaLocal& local = replicaLocal(replica.id);
  local.ejected_at = Clock::now();
  local.ejected_until = watchdog_.now() + config.outlier.base_ejection;
  local.lift_on_health = true;
  local.latency.reset();
  replica.ejections[static_cast<size_t>(EjectionReason::kConnectRefused)].fetch_add(
      1, std::memory_order_relaxed);
}

void Proxy::eject(const Replica& replica, ReplicaLocal& local, EjectionReason reason,
                  const OutlierConfig& config) {
  const auto now = watchdog_.now();
  // The backoff forgets one ejection per base_ejection spent in rotation since the last ended.
  local.ejections =
      decayedEjections(local.ejections, now - local.ejected_until, config.base_ejection) + 1;
  local.ejected_until = now + ejectionTime(config.base_ejection, local.ejections);
  local.ejected_at = Clock::now();
  local.consecutive_failures = 0;
  local.latency.reset();  // Judged again on answers after its return only.
  replica.ejections[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void Proxy::recordFailure(const Replica& replica, const ModelRoute& model, int version_index,
                          const GatewayConfig& config) {
  ReplicaLocal& local = replicaLocal(replica.id);
  if (++local.consecutive_failures < config.outlier.consecutive_failures) {
    return;
  }
  // Passive ejection (Envoy's outlier detection): at most max_ejection_percent of the version's
  // replicas at once, but at least one.
  const VersionRoute& version = model.versions[version_index];
  const auto now = watchdog_.now();
  const auto out = std::count_if(version.replicas.begin(), version.replicas.end(),
                                 [&](const auto& other) { return ejected(*other); });
  if (out >= maxEjected(version.replicas.size(), config.outlier.max_ejection_percent)) {
    return;
  }
  // A replica that refused connections keeps its lift: once a health check passes it listens.
  eject(replica, local, EjectionReason::kConsecutiveFailures, config.outlier);
  DW_LOG_WARN("ejecting replica {} of {} {} for {} after {} consecutive failures", replica.url,
              model.config.name, version.id, formatDuration(local.ejected_until - now),
              config.outlier.consecutive_failures);
}

void Proxy::recordLatency(ReplicaLocal& local, Clock::time_point started) {
  // A try that began before the replica's last ejection tells of the time before it: the
  // replica is judged on what it did since.
  if (started < local.ejected_at) {
    return;
  }
  local.latency.add(std::chrono::duration<double>(Clock::now() - started).count());
}

void Proxy::detectLatencyOutliers(const RoutingTable& table) {
  const OutlierConfig& config = table.config().outlier;
  const auto now = watchdog_.now();
  next_latency_check_ = now + config.interval;
  if (config.latency_factor <= 0) {
    return;
  }
  for (const auto& model : table.models()) {
    for (const VersionRoute& version : model->versions) {
      if (version.replicas.size() < 2) {
        continue;  // No peers to compare with.
      }
      latency_candidates_.clear();
      int out = 0;
      for (const auto& replica : version.replicas) {
        LatencyCandidate candidate;
        candidate.in_rotation = usable(*replica);
        if (replica->id < replicas_.size() && replicas_[replica->id]) {
          const ReplicaLocal& local = *replicas_[replica->id];
          candidate.seconds = local.latency.seconds();
          candidate.samples = local.latency.samples();
        }
        out += ejected(*replica) ? 1 : 0;
        latency_candidates_.push_back(candidate);
      }
      latency_ejections_.clear();
      latency_detector_.evaluate(
          latency_candidates_, config,
          maxEjected(version.replicas.size(), config.max_ejection_percent) - out,
          &latency_ejections_);
      for (const LatencyEjection& e : latency_ejections_) {
        const Replica& replica = *version.replicas[e.index];
        ReplicaLocal& local = replicaLocal(replica.id);
        eject(replica, local, EjectionReason::kLatency, config);
        local.lift_on_health = false;  // A slow replica passes its checks: only time lifts it.
        DW_LOG_WARN(
            "ejecting replica {} of {} {} for {}: latency {:.0f} ms, {:.1f}x the median {:.0f} ms "
            "of its peers",
            replica.url, model->config.name, version.id, formatDuration(local.ejected_until - now),
            e.seconds * 1000, e.peer_median > 0 ? e.seconds / e.peer_median : 0.0,
            e.peer_median * 1000);
      }
    }
  }
}

std::string Proxy::requestId(const net::Request& request) {
  auto it = request.find("x-request-id");
  if (it != request.end() && validRequestId(it->value())) {
    return std::string(it->value());
  }
  return fmt::format("req_{:016x}", random_.next());
}

asio::awaitable<void> Proxy::localReply(net::Exchange& exchange, int status, LocalReply reason,
                                        std::string_view message, std::string_view type,
                                        std::string_view param, std::string_view code,
                                        std::string_view request_id, uint32_t model_id) {
  metrics_.local_replies[static_cast<int>(reason)].add();
  metrics_.responses[WorkerMetrics::modelRow(model_id)][WorkerMetrics::codeClass(status)].add();
  std::string body = net::openAiErrorJson(message, type, param, code);
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n"
      "x-request-id: {}\r\n",
      status, reasonPhrase(status), body.size(), request_id);
  if (status == 429 || status == 503) {
    head += "retry-after: 1\r\n";
  }
  const bool keep_alive = exchange.clientKeepAlive();
  head += keep_alive ? "\r\n" : "connection: close\r\n\r\n";
  co_await exchange.respondRaw(head, body, keep_alive);
}

asio::awaitable<void> Proxy::handleFeedback(net::Exchange& exchange,
                                            const security::AccessPolicy* policy,
                                            const security::Principal* principal) {
  // Rare next to inference, so a JSON DOM and the book's mutex are fine here.
  const std::string id = requestId(exchange.request());
  FeedbackError error;
  std::optional<FeedbackInput> input = parseFeedback(exchange.request().body(), &error);
  if (!input) {
    co_await localReply(exchange, 400, LocalReply::kBadRequest, error.message,
                        "invalid_request_error", error.param, "invalid_feedback", id, 0);
    co_return;
  }
  std::optional<int> series = feedback_.find(input->request_id);
  std::shared_ptr<const RoutingTable> table = routes_.current();
  const ModelRoute* model = nullptr;
  if (series) {
    const auto model_id = static_cast<uint32_t>(*series / observe::kVersionSlots);
    for (const auto& m : table->models()) {
      if (m->id == model_id) {
        model = m.get();
      }
    }
  }
  const int version_index = series ? *series % observe::kVersionSlots : -1;
  if (model == nullptr || version_index >= static_cast<int>(model->versions.size())) {
    co_await localReply(
        exchange, 404, LocalReply::kBadRequest,
        "No answer with this request_id is remembered: it was not served by this gateway, was "
        "already rated, or is too old.",
        "invalid_request_error", "request_id", "request_not_found", id, 0);
    co_return;
  }
  // Who may use a model may rate its answers; so may a key granted feedback/create (R7).
  if (principal != nullptr &&
      !policy->allowed(*principal, {security::kApiGroup, "models", "infer", model->config.name}) &&
      !policy->allowed(*principal,
                       {security::kApiGroup, "feedback", "create", model->config.name})) {
    co_await localReply(exchange, 403, LocalReply::kForbidden,
                        fmt::format("This key may not rate answers of the model '{}'.",
                                    model->config.name.substr(0, 200)),
                        "permission_error", "model", "model_not_permitted", id, 0);
    co_return;
  }
  if (feedback_.take(input->request_id) != series) {
    co_await localReply(exchange, 409, LocalReply::kBadRequest,
                        "This answer was rated at the same time by another call.",
                        "invalid_request_error", "request_id", "feedback_conflict", id, 0);
    co_return;
  }
  feedback_.book().add(*series, *input);
  net::Response response(http::status::ok, 11);
  response.set(http::field::content_type, "application/json");
  response.set("x-request-id", id);
  std::string body = "{\"object\":\"feedback\",\"request_id\":";
  net::appendJsonString(body, input->request_id);
  body += ",\"model\":";
  net::appendJsonString(body, model->config.name);
  body += ",\"version\":";
  net::appendJsonString(body, model->versions[version_index].id);
  body += input->positive ? ",\"verdict\":\"positive\"}" : ",\"verdict\":\"negative\"}";
  response.body() = std::move(body);
  co_await exchange.respond(std::move(response));
}

asio::awaitable<void> Proxy::handle(net::Exchange& exchange) {
  std::shared_ptr<const RoutingTable> table = routes_.current();
  const net::Request& request = exchange.request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (path.starts_with("/v1/")) {
    path.remove_prefix(3);
  }
  const Endpoint endpoint = classify(path);
  const bool is_get = request.method() == http::verb::get;
  const bool is_post = request.method() == http::verb::post;
  std::shared_ptr<const security::AccessPolicy> policy = access_.current();
  const security::Principal* principal = nullptr;
  if (policy != nullptr && policy->enabled()) {
    principal = co_await authenticate(exchange, *policy, requestId(request));
    if (principal == nullptr) {
      co_return;
    }
  }
  if (endpoint == Endpoint::kModels && is_get) {
    net::Response response(http::status::ok, 11);
    response.set(http::field::content_type, "application/json");
    response.set("x-request-id", requestId(request));
    response.body() = table->modelListJson();
    co_await exchange.respond(std::move(response));
    co_return;
  }
  if (endpoint == Endpoint::kModel && is_get) {
    std::string_view name = path.substr(8);
    const ModelRoute* model = table->find(name);
    const std::string id = requestId(request);
    if (model == nullptr) {
      co_await localReply(exchange, 404, LocalReply::kModelNotFound,
                          fmt::format("The model '{}' does not exist.", name),
                          "invalid_request_error", "model", "model_not_found", id, 0);
      co_return;
    }
    net::Response response(http::status::ok, 11);
    response.set(http::field::content_type, "application/json");
    response.set("x-request-id", id);
    std::string body = "{\"id\":";
    net::appendJsonString(body, name);
    body += ",\"object\":\"model\",\"created\":0,\"owned_by\":\"deepwatch\"}";
    response.body() = std::move(body);
    co_await exchange.respond(std::move(response));
    co_return;
  }
  if ((endpoint == Endpoint::kChat || endpoint == Endpoint::kCompletions ||
       endpoint == Endpoint::kEmbeddings) &&
      is_post) {
    co_await proxyRequest(exchange, path, std::move(table), policy.get(), principal);
    co_return;
  }
  if (endpoint == Endpoint::kFeedback && is_post) {
    co_await handleFeedback(exchange, policy.get(), principal);
    co_return;
  }
  const std::string id = requestId(request);
  if (endpoint != Endpoint::kUnknown) {
    co_await localReply(exchange, 405, LocalReply::kBadRequest, "Method not allowed.",
                        "invalid_request_error", "", "method_not_allowed", id, 0);
  } else {
    co_await localReply(exchange, 404, LocalReply::kBadRequest,
                        fmt::format("Unknown path {}.", path.substr(0, 200)),
                        "invalid_request_error", "", "unknown_url", id, 0);
  }
}

// What the gateway learns of one request as it passes (R1): input features while routing,
// output features while relaying.
struct Proxy::Observation {
  Observation(const observe::ObserveConfig& config, observe::Endpoint endpoint_in)
      : input(config.input), endpoint(endpoint_in), low_confidence(config.low_confidence) {}

  observe::InputScanner input;
  observe::OutputFeatures output;
  observe::SseState sse;
  observe::Endpoint endpoint;
  double low_confidence;
  Clock::time_point started = Clock::now();
  Clock::time_point last_content;
  bool saw_content = false;
};

namespace {
observe::Endpoint endpointOf(std::string_view path) {
  if (path == "/completions") {
    return observe::Endpoint::kCompletions;
  }
  if (path == "/embeddings") {
    return observe::Endpoint::kEmbeddings;
  }
  return observe::Endpoint::kChat;
}
}  // namespace

// One try of a request against one replica.
struct Proxy::Attempt {
  enum class Result { kRelayed, kRetriable, kFailed };

  // In.
  const Replica* replica = nullptr;
  std::string_view head;  // The upstream request's head; the body follows.
  std::string_view body;
  std::string_view request_id;
  Clock::time_point deadline = Clock::time_point::max();
  Observation* observation = nullptr;  // Null when not observing.

  // Out.
  Result result = Result::kFailed;
  bool connect_failed = false;  // Nothing was sent; such tries do not count as attempts.
  int status = 0;               // What the client was (or is to be) answered.
  LocalReply reason = LocalReply::kUpstreamFailed;
  std::string message;
  // A retriable upstream answer (502, 503), passed through when no retry is left.
  std::string stored_head;
  std::string stored_body;
};

namespace {

// Appends a message's end-to-end headers. `consumed_authorization`: the gateway authenticated
// the request with its Authorization (a deepwatch key), which is the gateway's credential, not
// the upstream's, so it does not travel on (SECURITY_RELIABILITY.md 7, case 22).
template <typename Fields>
void appendEndToEndHeaders(std::string& head, const Fields& fields,
                           bool consumed_authorization = false) {
  for (const auto& field : fields) {
    std::string_view name = field.name_string();
    if (isHopByHop(name) ||
        (consumed_authorization && field.name() == http::field::authorization)) {
      continue;
    }
    head.append(name);
    head += ": ";
    head.append(field.value());
    head += "\r\n";
  }
}

// The head of an upstream answer relayed to the client: its status and end-to-end fields, then
// `framing` ("content-length: N" or "transfer-encoding: chunked"), the request id, and whether
// the client's connection closes after it.
template <typename Fields>
std::string clientHead(int status, const Fields& fields, std::string_view framing,
                       std::string_view request_id, bool keep_alive) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, reasonPhrase(status));
  appendEndToEndHeaders(head, fields);
  head += fmt::format("{}\r\nx-request-id: {}\r\n", framing, request_id);
  head += keep_alive ? "\r\n" : "connection: close\r\n\r\n";
  return head;
}

constexpr std::string_view kChunked = "transfer-encoding: chunked";

}  // namespace

asio::awaitable<void> Proxy::proxyRequest(net::Exchange& exchange, std::string_view path,
                                          std::shared_ptr<const RoutingTable> table,
                                          const security::AccessPolicy* policy,
                                          const security::Principal* principal) {
  const GatewayConfig& config = table->config();
  const net::Request& request = exchange.request();
  const std::string request_id = requestId(request);
  const bool observing = config.observe.enabled;
  Observation observation(config.observe, endpointOf(path));
  RequestFields fields;
  FieldError field_error;
  if (!fields_.parse(request.body(), &fields, &field_error,
                     observing ? &observation.input : nullptr)) {
    co_await localReply(exchange, 400, LocalReply::kBadRequest, field_error.message,
                        "invalid_request_error", field_error.param, field_error.code, request_id,
                        0);
    co_return;
  }
  const ModelRoute* model = table->find(fields.model);
  if (model == nullptr) {
    co_await localReply(exchange, 404, LocalReply::kModelNotFound,
                        fmt::format("The model '{}' does not exist.", fields.model.substr(0, 200)),
                        "invalid_request_error", "model", "model_not_found", request_id, 0);
    co_return;
  }
  if (principal != nullptr &&
      !policy->allowed(*principal, {security::kApiGroup, "models", "infer", model->config.name})) {
    co_await localReply(
        exchange, 403, LocalReply::kForbidden,
        fmt::format("This key may not use the model '{}'.", model->config.name.substr(0, 200)),
        "permission_error", "model", "model_not_permitted", request_id, 0);
    co_return;
  }
  // R7: personal data is counted, refused (block) or masked before it goes upstream, per model.
  std::string redacted;
  if (model->pii != nullptr) {
    security::PiiCounts counts{};
    const security::PiiModelConfig& pii = model->pii_policy;
    const bool block = pii.mode == "block";
    // Only a body that goes upstream masked is rewritten; blocking and counting need the finds.
    bool found = false;
    if (!block && pii.forward_redacted) {
      std::string masked = model->pii->redact(request.body(), &counts);
      found = masked != request.body();
      if (found) {
        redacted = std::move(masked);
      }
    } else {
      for (const security::PiiFinding& f : model->pii->find(request.body())) {
        ++counts[static_cast<size_t>(f.type)];
        found = true;
      }
    }
    const int pii_row = WorkerMetrics::modelRow(model->id);
    for (size_t t = 0; t < counts.size(); ++t) {
      if (counts[t] > 0) {
        metrics_.pii[pii_row][t].add(counts[t]);
      }
    }
    if (block && found) {
      co_await localReply(exchange, 400, LocalReply::kPiiBlocked,
                          "The request contains personal data, which this model does not accept.",
                          "invalid_request_error", "messages", "pii_detected", request_id,
                          model->id);
      co_return;
    }
    if (!redacted.empty()) {
      // The model field may have moved: parse the masked body again (rare: only with a find).
      exchange.mutableRequest().body() = std::move(redacted);
      RequestFields again;
      if (!fields_.parse(request.body(), &again, &field_error, nullptr)) {
        co_await localReply(exchange, 400, LocalReply::kBadRequest, field_error.message,
                            "invalid_request_error", field_error.param, field_error.code,
                            request_id, 0);
        co_return;
      }
      fields = std::move(again);
    }
  }
  ModelLocal& limits = modelLocal(*model, config);
  const int row = WorkerMetrics::modelRow(model->id);
  metrics_.queued[row].add();
  const auto admitted = co_await limits.limiter.acquire(config.timeouts.request);
  metrics_.queued[row].sub();
  if (admitted != net::AsyncSemaphore::Outcome::kAcquired) {
    co_await localReply(
        exchange, model->config.overflow_status, LocalReply::kOverloaded,
        fmt::format("Too many requests for model '{}'; retry shortly.", model->config.name),
        "rate_limit_exceeded", "", "model_overloaded", request_id, model->id);
    if (observing) {
      observe(observation, model->id, -1, model->config.overflow_status, fields.stream);
    }
    co_return;
  }
  ++active_requests_;
  metrics_.in_flight.add();
  metrics_.active[row].add();

  // Where this request goes when a version is chosen by weight: sticky by a header or the API
  // key when the model asks for it, random otherwise.
  double u = 0;
  std::string_view sticky_value;
  if (model->config.sticky != StickyBy::kNone) {
    auto it = request.find(model->config.sticky == StickyBy::kHeader
                               ? std::string_view(model->config.sticky_header)
                               : std::string_view("authorization"));
    if (it != request.end()) {
      sticky_value = it->value();
    }
  }
  u = sticky_value.empty() ? random_.uniform() : unitInterval(stableHash(sticky_value));

  const Clock::time_point deadline =
      fields.stream ? Clock::time_point::max() : Clock::now() + config.timeouts.request;
  std::array<uint32_t, 16> tried{};
  size_t tried_count = 0;
  auto is_tried = [&](uint32_t id) {
    return std::find(tried.begin(), tried.begin() + tried_count, id) != tried.begin() + tried_count;
  };
  auto replica_usable = [&](const Replica& r) { return usable(r) && !is_tried(r.id); };
  auto version_usable = [&](const VersionRoute& v) {
    return std::any_of(v.replicas.begin(), v.replicas.end(),
                       [&](const auto& r) { return replica_usable(*r); });
  };

  int version_index = -1;
  int attempts = 0;  // Tries that sent the request.
  int tries = 0;     // All tries, connect failures included.
  Attempt last;
  std::string rewritten_body;
  std::string head;
  for (;;) {
    if (version_index < 0 || !version_usable(model->versions[version_index])) {
      version_index = pickVersion(*model, u, version_usable);
    }
    if (version_index < 0) {
      break;
    }
    const VersionRoute& version = model->versions[version_index];
    // Least outstanding requests among the usable replicas of the gateway's zone, from a random
    // start so that ties spread; the other zones' only when none of those is usable (R9).
    const Replica* replica = nullptr;
    int best = 0;
    auto pick = [&](size_t first, size_t last) {
      const size_t n = last - first;
      const size_t start = n > 1 ? random_.below(n) : 0;
      for (size_t k = 0; k < n; ++k) {
        const Replica& candidate = *version.replicas[first + (start + k) % n];
        if (!replica_usable(candidate)) {
          continue;
        }
        const int outstanding = replicaLocal(candidate.id).outstanding;
        if (replica == nullptr || outstanding < best) {
          replica = &candidate;
          best = outstanding;
        }
      }
    };
    pick(0, version.local_replicas);
    if (replica == nullptr && version.local_replicas < version.replicas.size()) {
      pick(version.local_replicas, version.replicas.size());
      if (replica != nullptr) {
        metrics_.cross_zone[WorkerMetrics::modelRow(model->id)].add();
      }
    }
    if (replica == nullptr) {
      break;  // Cannot happen: version_usable() found one.
    }
    std::string_view body = request.body();
    if (version.upstream_model != fields.model) {
      rewritten_body = rewriteModel(request.body(), fields, version.upstream_model);
      body = rewritten_body;
    }
    // The upstream request: the client's end-to-end headers, our Host, length and request id.
    head.clear();
    head += http::to_string(request.method());
    head += ' ';
    head += replica->path_prefix;
    head += "/v1";
    head += path;
    std::string_view target = request.target();
    if (size_t q = target.find('?'); q != std::string_view::npos) {
      head += target.substr(q);
    }
    head += " HTTP/1.1\r\nhost: ";
    head += replica->host_header;
    head += "\r\ncontent-length: ";
    head += std::to_string(body.size());
    head += "\r\nx-request-id: ";
    head += request_id;
    head += "\r\n";
    appendEndToEndHeaders(head, request, principal != nullptr);
    head += "\r\n";

    Attempt attempt;
    attempt.replica = replica;
    attempt.head = head;
    attempt.body = body;
    attempt.request_id = request_id;
    attempt.deadline = deadline;
    attempt.observation = observing ? &observation : nullptr;
    const bool retry = tries > 0;
    ++tries;
    if (retry) {
      ++active_retries_;
      metrics_.retries.add();
    }
    co_await runAttempt(exchange, attempt, *model, version_index, config);
    if (retry) {
      --active_retries_;
    }
    if (!attempt.connect_failed) {
      ++attempts;
    }
    if (attempt.result == Attempt::Result::kRelayed) {
      metrics_
          .responses[WorkerMetrics::modelRow(model->id)][WorkerMetrics::codeClass(attempt.status)]
          .add();
      last = std::move(attempt);
      last.result = Attempt::Result::kRelayed;
      break;
    }
    if (tried_count < tried.size()) {
      tried[tried_count++] = replica->id;
    }
    last = std::move(attempt);
    if (last.result == Attempt::Result::kFailed) {
      break;
    }
    // A retry on another replica, within the attempt limit and the retry budget (Envoy's:
    // retries in flight at most budget_percent of active requests, but at least
    // min_retry_concurrency).
    const int budget =
        std::max(config.retry.min_retry_concurrency,
                 static_cast<int>(config.retry.budget_percent / 100.0 * active_requests_));
    // A failed connect sent nothing: trying the next replica costs no upstream work, so it
    // counts against neither the attempts nor the budget (bounded by the replicas tried). The
    // budget guards against retry storms on overloaded upstreams, so it applies to retries
    // after an upstream's 502/503; a connection reset means a replica died, not that the fleet
    // is overloaded.
    if (!last.connect_failed && attempts >= config.retry.max_attempts) {
      break;
    }
    if (!last.stored_head.empty() && active_retries_ >= budget) {
      break;
    }
    if (tried_count >= tried.size()) {
      break;
    }
  }

  int final_status = last.status;
  if (last.result != Attempt::Result::kRelayed) {
    if (!last.stored_head.empty()) {
      // The last upstream's own retriable answer (502/503), as it gave it.
      metrics_.responses[WorkerMetrics::modelRow(model->id)][WorkerMetrics::codeClass(last.status)]
          .add();
      co_await exchange.respondRaw(last.stored_head, last.stored_body, exchange.clientKeepAlive());
    } else if (attempts == 0) {
      final_status = 503;
      co_await localReply(
          exchange, 503, LocalReply::kNoHealthyUpstream,
          fmt::format("No healthy replica of model '{}' is available.", model->config.name),
          "server_error", "", "no_healthy_upstream", request_id, model->id);
    } else {
      const bool timeout = last.reason == LocalReply::kUpstreamTimeout;
      final_status = timeout ? 504 : 502;
      co_await localReply(exchange, timeout ? 504 : 502, last.reason, last.message, "server_error",
                          "", timeout ? "upstream_timeout" : "upstream_error", request_id,
                          model->id);
    }
  }
  if (observing) {
    observe(observation, model->id, last.result == Attempt::Result::kRelayed ? version_index : -1,
            final_status, fields.stream);
  }
  if (last.result == Attempt::Result::kRelayed && final_status >= 200 && final_status < 300) {
    served_.record(request_id, observe::seriesId(model->id, version_index));
  }
  --active_requests_;
  metrics_.in_flight.sub();
  metrics_.active[row].sub();
  limits.limiter.release();
  if (watchdog_.now() >= next_latency_check_) {
    detectLatencyOutliers(*table);
  }
}

void Proxy::observeStreamPiece(Observation& observation, std::string_view piece, int series) {
  if (outputs_.feed(observation.sse, piece, &observation.output) == 0) {
    return;
  }
  const auto now = Clock::now();
  if (!observation.saw_content) {
    observation.saw_content = true;
    observe::recordTimeToFirstToken(
        shard_, series, std::chrono::duration<double>(now - observation.started).count());
  } else {
    observe::recordInterToken(
        shard_, series, std::chrono::duration<double>(now - observation.last_content).count());
  }
  observation.last_content = now;
}

void Proxy::observe(Observation& observation, uint32_t model_id, int version_index, int status,
                    bool stream) {
  const int series = observe::seriesId(model_id, version_index);
  const double seconds = std::chrono::duration<double>(Clock::now() - observation.started).count();
  observe::recordInput(shard_, series, observation.input);
  observe::recordResponse(shard_, series, observation.endpoint, status, stream, seconds);
  if (status >= 200 && status < 300 && observation.endpoint != observe::Endpoint::kEmbeddings) {
    observe::recordOutput(shard_, series, observation.output, labels_.slot(observation.output),
                          observation.low_confidence);
  }
}

asio::awaitable<void> Proxy::runAttempt(net::Exchange& exchange, Attempt& attempt,
                                        const ModelRoute& model, int version_index,
                                        const GatewayConfig& config) {
  const Replica& replica = *attempt.replica;
  ReplicaLocal& local = replicaLocal(replica.id);
  const Clock::time_point started = Clock::now();  // For the replica's latency (R2.1).
  ++local.outstanding;
  struct Outstanding {
    ReplicaLocal& local;
    ~Outstanding() { --local.outstanding; }
  } outstanding{local};
  auto fail = [&](Attempt::Result result, UpstreamError error, LocalReply reason,
                  std::string message) {
    attempt.result = result;
    attempt.reason = reason;
    attempt.message = std::move(message);
    metrics_.upstream_errors[static_cast<int>(error)].add();
    recordFailure(replica, model, version_index, config);
  };

  // A pooled connection if a fresh enough one is idle, else a new one. A pooled connection that
  // fails before any byte of the response came back was closed by the replica while idle; the
  // request never reached it, so it is sent again on a new connection.
  std::unique_ptr<UpstreamConnection> conn;
  while (!local.idle.empty() && !conn) {
    conn = std::move(local.idle.back());
    local.idle.pop_back();
    if (watchdog_.now() - conn->idle_since > kUpstreamIdleLimit) {
      conn.reset();
    }
  }
  std::optional<http::response_parser<http::buffer_body>> parser;
  error_code ec;
  for (;;) {
    const bool reused = conn != nullptr;
    if (!reused) {
      conn = std::make_unique<UpstreamConnection>(co_await asio::this_coro::executor);
      conn->watched.attach(watchdog_);
      conn->watched.arm(remaining(attempt.deadline, config.timeouts.connect));
      co_await conn->socket.async_connect(replica.endpoint, redirect(ec));
      conn->watched.disarm();
      if (ec) {
        const bool timed_out = conn->watched.timedOut();
        attempt.connect_failed = true;
        if (!timed_out) {
          ejectRefusing(replica, config);
        }
        fail(Attempt::Result::kRetriable,
             timed_out ? UpstreamError::kTimeout : UpstreamError::kConnect,
             LocalReply::kUpstreamFailed,
             fmt::format("Cannot connect to an upstream replica of '{}': {}.", model.config.name,
                         timed_out ? "connect timeout" : ec.message()));
        co_return;
      }
      conn->socket.set_option(tcp::no_delay(true), ec);
    } else {
      conn->watched.attach(watchdog_);
    }
    conn->watched.arm(remaining(attempt.deadline, config.timeouts.first_byte));
    const std::array<asio::const_buffer, 2> request_buffers = {
        asio::buffer(attempt.head.data(), attempt.head.size()),
        asio::buffer(attempt.body.data(), attempt.body.size())};
    co_await asio::async_write(conn->socket, request_buffers, redirect(ec));
    if (ec && reused) {
      conn.reset();
      continue;
    }
    if (ec) {
      // Nothing came back and the request may not have been read: safe to try elsewhere.
      fail(Attempt::Result::kRetriable, UpstreamError::kReset, LocalReply::kUpstreamFailed,
           fmt::format("Sending to an upstream replica of '{}' failed: {}.", model.config.name,
                       ec.message()));
      co_return;
    }
    parser.emplace();
    parser->header_limit(64 * 1024);
    parser->body_limit(kMaxResponseBodyBytes);
    co_await http::async_read_header(conn->socket, conn->buffer, *parser, redirect(ec));
    if (ec && reused && conn->buffer.size() == 0 && !conn->watched.timedOut() &&
        (ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe)) {
      conn.reset();
      continue;
    }
    break;
  }
  if (ec) {
    // The request was sent. A timeout is never retried: the replica may still be working on it
    // (and a completion could be billed twice; SECURITY_RELIABILITY.md 1.5). A connection that
    // was reset or closed before any byte of an answer means the replica died or dropped it;
    // that is retried when retry.on_reset allows (Envoy's retry_on: reset).
    if (conn->watched.timedOut()) {
      fail(Attempt::Result::kFailed, UpstreamError::kTimeout, LocalReply::kUpstreamTimeout,
           fmt::format("The upstream replica of '{}' did not answer in time.", model.config.name));
    } else {
      fail(config.retry.on_reset ? Attempt::Result::kRetriable : Attempt::Result::kFailed,
           UpstreamError::kReset, LocalReply::kUpstreamFailed,
           fmt::format("The upstream replica of '{}' failed before answering: {}.",
                       model.config.name, ec.message()));
    }
    co_return;
  }

  auto& header = parser->get();
  const int status = static_cast<int>(header.result_int());
  attempt.status = status;
  auto content_type = header.find(http::field::content_type);
  const bool sse =
      content_type != header.end() && content_type->value().starts_with("text/event-stream");
  const bool retriable_status = status == 502 || status == 503;
  const bool keep_alive_client = exchange.clientKeepAlive();
  auto finish_connection = [&](bool reusable) {
    conn->watched.disarm();
    conn->watched.detach();
    if (reusable && local.idle.size() < kMaxIdlePerReplica) {
      conn->idle_since = watchdog_.now();
      local.idle.push_back(std::move(conn));
    }
  };

  if (!sse) {
    // A whole response: read it, then answer the client with one write. (Read through the same
    // buffer_body parser, straight into the body string: Beast cannot change a parser's body
    // type once it saw the body.)
    // Held whole up to limits.max_buffered_response_bytes; a larger answer is relayed as it
    // arrives from the moment it outgrows it (not retried, not observed).
    const uint64_t hold_limit = config.limits.max_buffered_response_bytes;
    std::string body;
    const auto length = parser->content_length();
    if (length && *length <= hold_limit) {
      body.reserve(*length);
    }
    while (!parser->is_done()) {
      const size_t used = body.size();
      if (used >= hold_limit || (length && *length > hold_limit)) {
        const std::string head =
            clientHead(status, header, kChunked, attempt.request_id, keep_alive_client);
        attempt.result = Attempt::Result::kRelayed;
        metrics_.unbuffered_responses.add();
        const RelayEnd end = co_await relayUnbuffered(exchange, *conn, *parser, head, body,
                                                      config.timeouts.stream_idle);
        if (end == RelayEnd::kUpstreamFailed || end == RelayEnd::kUpstreamTimeout) {
          metrics_
              .upstream_errors[static_cast<int>(end == RelayEnd::kUpstreamTimeout
                                                    ? UpstreamError::kTimeout
                                                    : UpstreamError::kReset)]
              .add();
          recordFailure(replica, model, version_index, config);
        } else if (status >= 500) {
          metrics_.upstream_errors[static_cast<int>(UpstreamError::kStatus5xx)].add();
          recordFailure(replica, model, version_index, config);
        } else {
          recordSuccess(replica);
          recordLatency(local, started);
        }
        if (end == RelayEnd::kDone) {
          finish_connection(header.keep_alive());
        }
        co_return;
      }
      // Grows by doubling, never past the hold limit (plus one read's worth).
      body.resize(std::min<size_t>(std::max(body.capacity(), used + 1024),
                                   std::max<size_t>(hold_limit, used + 1024)));
      parser->get().body().data = body.data() + used;
      parser->get().body().size = body.size() - used;
      conn->watched.arm(remaining(attempt.deadline, config.timeouts.stream_idle));
      co_await http::async_read_some(conn->socket, conn->buffer, *parser, redirect(ec));
      if (ec == http::error::need_buffer) {
        ec = {};
      }
      body.resize(body.size() - parser->get().body().size);
      if (ec) {
        const bool timed_out = conn->watched.timedOut();
        fail(Attempt::Result::kFailed, timed_out ? UpstreamError::kTimeout : UpstreamError::kReset,
             timed_out ? LocalReply::kUpstreamTimeout : LocalReply::kUpstreamFailed,
             fmt::format("The upstream replica of '{}' failed while answering: {}.",
                         model.config.name, timed_out ? "timeout" : ec.message()));
        co_return;
      }
    }
    std::string head = clientHead(status, header, fmt::format("content-length: {}", body.size()),
                                  attempt.request_id, keep_alive_client);
    finish_connection(header.keep_alive());
    if (retriable_status) {
      fail(Attempt::Result::kRetriable, UpstreamError::kStatus5xx, LocalReply::kUpstreamFailed,
           fmt::format("The upstream replica of '{}' answered {}.", model.config.name, status));
      attempt.stored_head = std::move(head);
      attempt.stored_body = std::move(body);
      co_return;
    }
    if (status >= 500) {
      metrics_.upstream_errors[static_cast<int>(UpstreamError::kStatus5xx)].add();
      recordFailure(replica, model, version_index, config);
    } else {
      recordSuccess(replica);
      recordLatency(local, started);  // A whole answer: the time to its last byte.
    }
    attempt.result = Attempt::Result::kRelayed;
    co_await exchange.respondRaw(head, body, keep_alive_client);
    // Observed after the answer left: measuring never delays it.
    if (attempt.observation != nullptr && status >= 200 && status < 300) {
      outputs_.scanBody(body, &attempt.observation->output);
    }
    co_return;
  }

  if (retriable_status) {
    // An event stream that starts with 502/503 is odd, but nothing has reached the client yet.
    fail(Attempt::Result::kRetriable, UpstreamError::kStatus5xx, LocalReply::kUpstreamFailed,
         fmt::format("The upstream replica of '{}' answered {}.", model.config.name, status));
    co_return;
  }
  // An event stream: relay each piece as it arrives (SSE is never buffered whole).
  const int series = observe::seriesId(model.id, version_index);
  recordSuccess(replica);
  attempt.result = Attempt::Result::kRelayed;
  metrics_.streams.add();
  const std::string head =
      clientHead(status, header, kChunked, attempt.request_id, keep_alive_client);
  if (!co_await exchange.beginStreamRaw(head, keep_alive_client)) {
    co_return;  // The client is gone; dropping the connection cancels the upstream request.
  }
  // Heap, not the coroutine frame: most requests are not streams and need no relay buffer.
  auto relay = std::make_unique<std::array<char, kRelayBufferBytes>>();
  bool first_piece = true;
  while (!parser->is_done()) {
    parser->get().body().data = relay->data();
    parser->get().body().size = relay->size();
    conn->watched.arm(config.timeouts.stream_idle);
    co_await http::async_read_some(conn->socket, conn->buffer, *parser, redirect(ec));
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    const size_t n = relay->size() - parser->get().body().size;
    if (n > 0 && first_piece) {
      first_piece = false;
      if (status < 500) {
        recordLatency(local, started);  // A stream: the time to its first piece.
      }
    }
    if (n > 0 && !co_await exchange.sendChunk(std::string_view(relay->data(), n))) {
      co_return;  // The client is gone: closing the upstream connection cancels the request.
    }
    if (n > 0 && attempt.observation != nullptr) {
      observeStreamPiece(*attempt.observation, std::string_view(relay->data(), n), series);
    }
    if (ec) {
      // Failed after the stream started: end it with an in-band error event (ECOSYSTEM 1.4).
      const bool timed_out = conn->watched.timedOut();
      metrics_
          .upstream_errors[static_cast<int>(timed_out ? UpstreamError::kTimeout
                                                      : UpstreamError::kReset)]
          .add();
      recordFailure(replica, model, version_index, config);
      std::string event = "data: ";
      event += net::openAiErrorJson(
          fmt::format("The upstream replica failed mid-stream: {}.",
                      timed_out ? "no data within the stream idle timeout" : ec.message()),
          "server_error", "", "upstream_error");
      event += "\n\n";
      if (co_await exchange.sendChunk(event)) {
        co_await exchange.endStream();
      }
      exchange.closeAfter();
      co_return;
    }
  }
  co_await exchange.endStream();
  finish_connection(parser->get().keep_alive());
}

auto Proxy::relayUnbuffered(net::Exchange& exchange, UpstreamConnection& conn,
                            http::response_parser<http::buffer_body>& parser, std::string_view head,
                            std::string_view held, Duration idle_timeout)
    -> asio::awaitable<RelayEnd> {
  if (!co_await exchange.beginStreamRaw(head, exchange.clientKeepAlive()) ||
      (!held.empty() && !co_await exchange.sendChunk(held))) {
    co_return RelayEnd::kClientGone;
  }
  parser.body_limit(boost::none);  // Nothing is held, so no size is too large to relay.
  auto relay = std::make_unique<std::array<char, kRelayBufferBytes>>();
  error_code ec;
  while (!parser.is_done()) {
    parser.get().body().data = relay->data();
    parser.get().body().size = relay->size();
    conn.watched.arm(idle_timeout);
    co_await http::async_read_some(conn.socket, conn.buffer, parser, redirect(ec));
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    const size_t n = relay->size() - parser.get().body().size;
    if (n > 0 && !co_await exchange.sendChunk(std::string_view(relay->data(), n))) {
      co_return RelayEnd::kClientGone;
    }
    if (ec) {
      // The client's answer is cut short without its last chunk, which tells it the body is
      // incomplete; the connection closes after it.
      exchange.closeAfter();
      co_return conn.watched.timedOut() ? RelayEnd::kUpstreamTimeout : RelayEnd::kUpstreamFailed;
    }
  }
  co_return co_await exchange.endStream() ? RelayEnd::kDone : RelayEnd::kClientGone;
}

}  // namespace dw::gateway
