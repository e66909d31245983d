#include "model/server_metrics.h"

namespace dw::model {
namespace {

// vLLM's bucket bounds, so histograms line up with a real engine's.
constexpr double kTtftBuckets[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                   0.25,  0.5,   0.75, 1,    2.5,  5,    7.5,  10,
                                   20,    40,    80,   160,  640,  2560};
constexpr double kInterTokenBuckets[] = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                                         0.75, 1,     2.5,  5,     7.5, 10,   20,  40,  80};
constexpr double kRequestBuckets[] = {0.3, 0.5, 0.8, 1,  1.5, 2,   2.5, 5,   10,   15,  20,
                                      30,  40,  50,  60, 120, 240, 480, 960, 1920, 7680};

}  // namespace

ServerMetrics::ServerMetrics()
    : ttft_(kTtftBuckets),
      inter_token_(kInterTokenBuckets),
      e2e_(kRequestBuckets),
      queue_(kRequestBuckets) {}

std::string ServerMetrics::render(const net::AsyncSemaphore& slots, const Faults& faults,
                                  std::string_view version) const {
  observe::ExpositionWriter w;
  const observe::Labels model = {{"model_name", model_name_}};
  w.family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.");
  w.sample("vllm:num_requests_running", model, slots.inUse());
  w.family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
  w.sample("vllm:num_requests_waiting", model, slots.waiting());
  w.family("vllm:kv_cache_usage_perc", "gauge",
           "Share of generation slots in use (the reference model's stand-in for KV cache use).");
  w.sample("vllm:kv_cache_usage_perc", model,
           static_cast<double>(slots.inUse()) / std::max(slots.capacity(), 1));
  w.family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
  w.sample("vllm:prompt_tokens_total", model, prompt_tokens_);
  w.family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
  w.sample("vllm:generation_tokens_total", model, generation_tokens_);
  w.family("vllm:request_success_total", "counter", "Count of finished requests by reason.");
  for (const auto& [reason, count] : finished_) {
    w.sample("vllm:request_success_total",
             {{"model_name", model_name_}, {"finished_reason", reason}}, count);
  }
  w.family("vllm:time_to_first_token_seconds", "histogram",
           "Histogram of time to first token in seconds.");
  w.histogram("vllm:time_to_first_token_seconds", model, ttft_);
  w.family("vllm:inter_token_latency_seconds", "histogram",
           "Histogram of inter-token latency in seconds.");
  w.histogram("vllm:inter_token_latency_seconds", model, inter_token_);
  w.family("vllm:e2e_request_latency_seconds", "histogram",
           "Histogram of end to end request latency in seconds.");
  w.histogram("vllm:e2e_request_latency_seconds", model, e2e_);
  w.family("vllm:request_queue_time_seconds", "histogram",
           "Histogram of time spent waiting in the queue in seconds.");
  w.histogram("vllm:request_queue_time_seconds", model, queue_);
  w.family("deepwatch_reference_model_info", "gauge",
           "The reference model's version and current quality switch.");
  w.sample(
      "deepwatch_reference_model_info",
      {{"model_name", model_name_}, {"version", version}, {"quality", qualityName(faults.quality)}},
      1);
  w.family("deepwatch_reference_faults_injected_total", "counter",
           "Requests that an injected fault changed, by kind.");
  for (const auto& [kind, count] : faults_injected_) {
    w.sample("deepwatch_reference_faults_injected_total",
             {{"model_name", model_name_}, {"kind", kind}}, count);
  }
  return w.release();
}

}  // namespace dw::model
