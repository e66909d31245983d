#include "model/server.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "base/hash.h"
#include "base/log.h"
#include "model/openai_request.h"
#include "model/openai_response.h"
#include "model/reference_model.h"
#include "model/server_metrics.h"
#include "net/async_semaphore.h"
#include "net/http_server.h"
#include "net/json_error.h"

namespace dw::model {

using net::asio::awaitable;
namespace asio = net::asio;
namespace http = net::http;

namespace {

constexpr std::string_view kJson = "application/json";

int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

class ModelServer::Impl {
 public:
  explicit Impl(ModelServerOptions options)
      : options_(std::move(options)),
        slots_(options_.max_concurrency, options_.max_waiting),
        random_(options_.seed != 0
                    ? options_.seed
                    : static_cast<uint64_t>(
                          std::chrono::steady_clock::now().time_since_epoch().count())),
        faults_(options_.faults) {
    metrics_.setModelName(options_.model_name);
  }

  Status init() {
    DW_ASSIGN_OR_RETURN(recipe_, findRecipe(options_.version));
    net::ServerOptions server_options;
    server_options.host = options_.host;
    server_options.port = options_.port;
    server_options.workers = 1;
    server_options.max_body_bytes = options_.max_body_bytes;
    DW_ASSIGN_OR_RETURN(
        server_, net::HttpServer::create(
                     server_options, [this](net::Exchange& exchange) { return handle(exchange); }));
    return okStatus();
  }

  uint16_t port() const { return server_->port(); }

  void start() {
    loader_ = std::thread([this] { load(); });
    server_->start();
  }

  void stop() {
    server_->stop();
    if (loader_.joinable()) {
      loader_.join();
    }
  }

  void wait() { server_->wait(); }

 private:
  void load() {
    auto started = std::chrono::steady_clock::now();
    auto corpus = loadCorpus(options_.fortune_dir, recipe_.categories, recipe_.max_per_category);
    if (!corpus.ok()) {
      DW_LOG_ERROR("cannot load the training corpus: {}", corpus.status().toString());
      load_failed_.store(true);
      return;
    }
    auto model = ReferenceModel::train(*corpus, recipe_);
    if (!model.ok()) {
      DW_LOG_ERROR("cannot train version {}: {}", recipe_.version, model.status().toString());
      load_failed_.store(true);
      return;
    }
    model_ = std::move(model).value();
    DW_LOG_INFO("model {} version {} trained on {} documents in {:.2f}s", options_.model_name,
                recipe_.version, model_->trainingDocuments(), secondsSince(started));
    if (options_.load_delay > Duration::zero()) {
      std::this_thread::sleep_for(options_.load_delay);
    }
    // Publishes model_ to the worker: it reads model_ only after seeing ready_ (acquire).
    ready_.store(true, std::memory_order_release);
  }

  awaitable<bool> respondJson(net::Exchange& exchange, http::status status, std::string body) {
    net::Response response(status, 11);
    response.set(http::field::content_type, kJson);
    response.set("x-request-id", requestId(exchange));
    response.body() = std::move(body);
    co_return co_await exchange.respond(std::move(response));
  }

  awaitable<bool> respondError(net::Exchange& exchange, const ApiError& error) {
    net::Response response(static_cast<http::status>(error.status), 11);
    response.set(http::field::content_type, kJson);
    response.set("x-request-id", requestId(exchange));
    if (error.status == 503 || error.status == 429) {
      response.set(http::field::retry_after, "1");
    }
    response.body() = net::openAiErrorJson(error.message, error.type, error.param, error.code);
    co_return co_await exchange.respond(std::move(response));
  }

  std::string requestId(const net::Exchange& exchange) {
    auto it = exchange.request().find("x-request-id");
    if (it != exchange.request().end() && !it->value().empty() && it->value().size() <= 128) {
      return std::string(it->value());
    }
    return fmt::format("req_{:016x}", random_.next());
  }

  awaitable<void> handle(net::Exchange& exchange) {
    const auto& request = exchange.request();
    std::string_view target = request.target();
    if (size_t q = target.find('?'); q != std::string_view::npos) {
      target = target.substr(0, q);
    }
    std::string_view path = target;
    if (path.starts_with("/v1/")) {
      path.remove_prefix(3);
    }
    const bool is_get = request.method() == http::verb::get;
    const bool is_post = request.method() == http::verb::post;
    if (target == "/health" && is_get) {
      co_await health(exchange);
    } else if (target == "/metrics" && is_get) {
      co_await net::respondText(exchange, http::status::ok, observe::kPrometheusTextContentType,
                                metrics_.render(slots_, faults_, recipe_.version));
    } else if (target == "/fault" && (is_get || is_post)) {
      co_await fault(exchange, is_post);
    } else if (path == "/models" && is_get) {
      co_await respondJson(exchange, http::status::ok,
                           modelListJson(options_.model_name, created_, options_.max_model_len));
    } else if (path.starts_with("/models/") && is_get) {
      if (path.substr(8) == options_.model_name) {
        co_await respondJson(
            exchange, http::status::ok,
            modelObjectJson(options_.model_name, created_, options_.max_model_len));
      } else {
        co_await respondError(exchange, modelNotFound(std::string(path.substr(8))));
      }
    } else if ((path == "/chat/completions" || path == "/completions" || path == "/embeddings") &&
               is_post) {
      co_await inference(exchange, path);
    } else if (path == "/chat/completions" || path == "/completions" || path == "/embeddings" ||
               path == "/models" || target == "/health" || target == "/metrics" ||
               target == "/fault") {
      co_await respondError(exchange, ApiError(405, "Method not allowed.", "invalid_request_error",
                                               "", "method_not_allowed"));
    } else {
      co_await respondError(
          exchange, ApiError(404, "Unknown path.", "invalid_request_error", "", "unknown_url"));
    }
  }

  ApiError modelNotFound(const std::string& name) const {
    return ApiError(404,
                    fmt::format("The model '{}' does not exist; this server serves '{}'.", name,
                                options_.model_name),
                    "invalid_request_error", "model", "model_not_found");
  }

  awaitable<void> health(net::Exchange& exchange) {
    if (load_failed_.load()) {
      co_await respondError(exchange, ApiError(503, "The model failed to load.",
                                               "unavailable_error", "", "load_failed"));
    } else if (!ready_.load(std::memory_order_acquire)) {
      co_await respondError(exchange,
                            ApiError(503, "Loading model", "unavailable_error", "", "loading"));
    } else if (faults_.unavailable) {
      co_await respondError(exchange, ApiError(503, "The engine is unavailable.",
                                               "unavailable_error", "", "engine_unavailable"));
    } else {
      co_await respondJson(
          exchange, http::status::ok,
          healthJson(options_.model_name, recipe_.version, qualityName(faults_.quality)));
    }
  }

  awaitable<void> fault(net::Exchange& exchange, bool is_post) {
    if (is_post) {
      bool crash_now = false;
      auto updated = applyFaultJson(faults_, exchange.request().body(), &crash_now);
      if (!updated.ok()) {
        co_await respondError(exchange, ApiError(400, updated.status().message(),
                                                 "invalid_request_error", "", "invalid_fault"));
        co_return;
      }
      faults_ = *updated;
      DW_LOG_WARN("faults now {}", faultsJson(faults_));
      if (!faults_.hang) {
        releaseHung();
      }
      if (crash_now) {
        co_await respondJson(exchange, http::status::ok, R"({"crashing":true})");
        crash();
      }
    }
    co_await respondJson(exchange, http::status::ok, faultsJson(faults_));
  }

  [[noreturn]] void crash() {
    DW_LOG_WARN("crash fault: killing the process");
    ::kill(::getpid(), SIGKILL);
    ::_exit(137);  // Not reached; SIGKILL cannot be caught.
  }

  void releaseHung() {
    for (auto& timer : hung_) {
      timer->cancel();
    }
    hung_.clear();
  }

  awaitable<void> inference(net::Exchange& exchange, std::string_view path) {
    const auto arrival = std::chrono::steady_clock::now();
    if (!ready_.load(std::memory_order_acquire)) {
      co_await respondError(exchange,
                            ApiError(503, "Loading model", "unavailable_error", "", "loading"));
      co_return;
    }
    if (faults_.crash_after > 0 && --faults_.crash_after == 0) {
      crash();
    }
    if (faults_.unavailable) {
      metrics_.countFault("unavailable");
      co_await respondError(exchange, ApiError(503, "The engine is unavailable.",
                                               "unavailable_error", "", "engine_unavailable"));
      co_return;
    }
    if (faults_.hang) {
      metrics_.countFault("hang");
      auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
      timer->expires_at(asio::steady_timer::time_point::max());
      hung_.push_back(timer);
      net::error_code ignored;
      co_await timer->async_wait(net::redirect(ignored));
    }
    CompletionRequest completion;
    EmbeddingRequest embedding;
    ApiError error;
    bool parsed = path == "/chat/completions"
                      ? parseChatRequest(exchange.request().body(), &completion, &error)
                  : path == "/completions"
                      ? parseCompletionRequest(exchange.request().body(), &completion, &error)
                      : parseEmbeddingRequest(exchange.request().body(), &embedding, &error);
    if (!parsed) {
      co_await respondError(exchange, error);
      co_return;
    }
    const std::string& model = path == "/embeddings" ? embedding.model : completion.model;
    if (model != options_.model_name) {
      co_await respondError(exchange, modelNotFound(model));
      co_return;
    }
    if (faults_.error_rate > 0 && random_.uniform() < faults_.error_rate) {
      metrics_.countFault("error");
      co_await respondError(exchange, injectedError(faults_.error_status));
      co_return;
    }
    if (co_await slots_.acquire() != net::AsyncSemaphore::Outcome::kAcquired) {
      co_await respondError(exchange, ApiError(503, "The server is overloaded; retry later.",
                                               "server_error", "", "overloaded"));
      co_return;
    }
    metrics_.observeQueueTime(secondsSince(arrival));
    Duration delay = options_.prefill_latency + sampleLatency(faults_, random_);
    if (delay > Duration::zero()) {
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      net::error_code ignored;
      co_await timer.async_wait(net::redirect(ignored));
    }
    if (path == "/embeddings") {
      co_await embed(exchange, embedding);
    } else {
      co_await complete(exchange, completion, path == "/chat/completions", arrival);
    }
    slots_.release();
  }

  static ApiError injectedError(int status) {
    ApiError error;
    error.status = status;
    error.message = fmt::format("Injected fault: the server answered {}.", status);
    error.type = status == 429   ? "rate_limit_exceeded"
                 : status >= 500 ? "server_error"
                                 : "invalid_request_error";
    error.code = status == 503 ? "overloaded" : "injected_fault";
    return error;
  }

  awaitable<void> embed(net::Exchange& exchange, const EmbeddingRequest& request) {
    int tokens = 0;
    std::string body = embeddingsJson(*model_, options_.model_name, request, &tokens);
    metrics_.countPromptTokens(tokens);
    co_await respondJson(exchange, http::status::ok, std::move(body));
  }

  // The tokens of one completion, whether it classifies or generates.
  class TokenSource {
   public:
    TokenSource(const ReferenceModel& model, const CompletionRequest& request, bool chat,
                Quality quality, int max_new, uint64_t seed) {
      if (request.task == Task::kClassify) {
        Classification result = model.classify(request.prompt, quality);
        GeneratedToken token{result.label(), result.logprob(), {}};
        for (size_t i = 0; i < result.ranked.size() && static_cast<int>(i) < request.top_logprobs;
             ++i) {
          token.top.push_back(result.ranked[i]);
        }
        classified_ = std::move(token);
        return;
      }
      GenerationParams params;
      params.max_tokens = request.max_tokens.value_or(std::min(max_new, 64));
      params.temperature = request.temperature;
      params.seed = seed;
      params.stop = request.stop;
      params.top_logprobs = request.logprobs ? request.top_logprobs : 0;
      params.trim_leading_space = chat;
      generation_.emplace(model.generate(request.prompt, std::move(params)));
    }

    bool next(GeneratedToken* token) {
      if (generation_) {
        return generation_->next(token);
      }
      if (classified_) {
        *token = std::move(*classified_);
        classified_.reset();
        return true;
      }
      return false;
    }

    std::string finishReason() const {
      return generation_ ? std::string(generation_->finishReason()) : "stop";
    }

   private:
    std::optional<Generation> generation_;
    std::optional<GeneratedToken> classified_;
  };

  awaitable<void> pause(Duration d) {
    if (d > Duration::zero()) {
      asio::steady_timer timer(co_await asio::this_coro::executor, d);
      net::error_code ignored;
      co_await timer.async_wait(net::redirect(ignored));
    }
  }

  ApiError contextTooLong(int prompt_tokens, int requested, bool chat) const {
    return ApiError(
        400,
        fmt::format("This model's maximum context length is {} tokens. However, you "
                    "requested {} tokens ({} in the messages, {} in the completion).",
                    options_.max_model_len, prompt_tokens + requested, prompt_tokens, requested),
        "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded");
  }

  awaitable<void> complete(net::Exchange& exchange, const CompletionRequest& request, bool chat,
                           std::chrono::steady_clock::time_point arrival) {
    const int prompt_tokens = model_->countTokens(request.full_prompt);
    const int max_new = std::max(0, options_.max_model_len - prompt_tokens);
    if (max_new == 0 || (request.max_tokens && *request.max_tokens > max_new)) {
      co_await respondError(exchange,
                            contextTooLong(prompt_tokens, request.max_tokens.value_or(0), chat));
      co_return;
    }
    CompletionFormatter format(
        fmt::format("{}-{:016x}", chat ? "chatcmpl" : "cmpl", random_.next()), unixSeconds(),
        options_.model_name, fmt::format("fp_{}_{}", recipe_.version, qualityName(faults_.quality)),
        chat, request);
    const uint64_t seed = request.seed ? mix64(*request.seed) : random_.next();
    TokenSource source(*model_, request, chat, faults_.quality, max_new, seed);

    std::vector<GeneratedToken> tokens;
    GeneratedToken token;
    size_t text_offset = 0;
    bool alive = true;
    if (request.stream) {
      http::response_header<> head;
      head.result(http::status::ok);
      head.set(http::field::content_type, "text/event-stream");
      head.set(http::field::cache_control, "no-cache");
      head.set("x-request-id", requestId(exchange));
      alive = co_await exchange.beginStream(std::move(head));
      if (alive && chat) {
        alive = co_await exchange.sendChunk(format.roleEvent());
      }
    }
    auto last_token = std::chrono::steady_clock::now();
    int completion_tokens = 0;
    while (alive && source.next(&token)) {
      if (completion_tokens > 0) {
        co_await pause(options_.token_latency);
        metrics_.observeInterToken(secondsSince(last_token));
      } else {
        metrics_.observeTimeToFirstToken(secondsSince(arrival));
      }
      last_token = std::chrono::steady_clock::now();
      ++completion_tokens;
      if (request.stream) {
        alive = co_await exchange.sendChunk(format.tokenEvent(token, text_offset));
        text_offset += token.text.size();
      } else {
        tokens.push_back(std::move(token));
      }
    }
    const std::string finish_reason = source.finishReason();
    if (request.stream) {
      if (alive) {
        alive = co_await exchange.sendChunk(format.finishEvent(finish_reason));
      }
      if (alive && request.include_usage) {
        alive = co_await exchange.sendChunk(format.usageEvent(prompt_tokens, completion_tokens));
      }
      if (alive) {
        alive = co_await exchange.sendChunk("data: [DONE]\n\n");
      }
      if (alive) {
        alive = co_await exchange.endStream();
      }
    } else {
      alive = co_await respondJson(exchange, http::status::ok,
                                   format.response(tokens, finish_reason, prompt_tokens));
    }
    metrics_.countPromptTokens(prompt_tokens);
    metrics_.countGenerationTokens(completion_tokens);
    metrics_.countFinished(alive ? finish_reason : "abort");
    metrics_.observeEndToEnd(secondsSince(arrival));
  }

  ModelServerOptions options_;
  Recipe recipe_;
  std::unique_ptr<net::HttpServer> server_;
  std::thread loader_;
  std::unique_ptr<ReferenceModel> model_;  // Written by the loader before ready_ is set.
  std::atomic<bool> ready_{false};
  std::atomic<bool> load_failed_{false};
  const int64_t created_ = unixSeconds();
  // Worker-local from here on: only the single io worker touches these.
  net::AsyncSemaphore slots_;
  Random random_;
  Faults faults_;
  ServerMetrics metrics_;
  std::vector<std::shared_ptr<asio::steady_timer>> hung_;
};

ModelServer::ModelServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ModelServer::~ModelServer() = default;

StatusOr<std::unique_ptr<ModelServer>> ModelServer::create(ModelServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  DW_RETURN_IF_ERROR(impl->init());
  return std::unique_ptr<ModelServer>(new ModelServer(std::move(impl)));
}

uint16_t ModelServer::port() const { return impl_->port(); }
void ModelServer::start() { impl_->start(); }
void ModelServer::stop() { impl_->stop(); }
void ModelServer::wait() { impl_->wait(); }

}  // namespace dw::model
