// `deepwatch model serve`: the reference model behind an OpenAI-compatible HTTP API, with
// /health, vLLM-named /metrics and fault switches (see docs/reference-model.md).
//
// Threading: one io worker runs every request (generation is microseconds per token; a
// reference replica is not a throughput peer), plus one thread that trains the model at start
// while /health answers 503. start(), stop() and wait() are called from the main thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/duration.h"
#include "base/status.h"
#include "model/corpus.h"
#include "model/faults.h"
#include "model/recipe.h"

namespace dw::model {

struct ModelServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  std::string model_name = "fortune";
  std::string version = "v1";
  std::string fortune_dir = std::string(kDefaultFortuneDir);
  int max_concurrency = 8;   // Requests generating at once.
  int max_waiting = 256;     // Requests queued beyond that; more get 503.
  int max_model_len = 4096;  // Tokens of prompt plus completion.
  uint64_t max_body_bytes = 1024 * 1024;
  Duration prefill_latency{0};  // Before the first token, per request.
  Duration token_latency{0};    // Between tokens (streamed or not).
  Duration load_delay{0};       // Extra time /health reports "loading" (slow start fault).
  Faults faults;
  uint64_t seed = 0;  // Seeds requests that bring no seed of their own; 0: from the clock.
};

class ModelServer {
 public:
  static StatusOr<std::unique_ptr<ModelServer>> create(ModelServerOptions options);
  ~ModelServer();

  uint16_t port() const;
  void start();
  void stop();
  void wait();

 private:
  class Impl;
  explicit ModelServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dw::model
