// The reference model's /metrics under vLLM's names (ECOSYSTEM.md 2.4), so that the gateway's
// resource collector reads a reference replica exactly as it reads a vLLM one.
//
// Thread contract: worker-local (the model server has one io worker).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "model/faults.h"
#include "net/async_semaphore.h"
#include "observe/exposition.h"
#include "stats/bucket_histogram.h"

namespace dw::model {

class ServerMetrics {
 public:
  ServerMetrics();

  void setModelName(std::string name) { model_name_ = std::move(name); }
  void observeTimeToFirstToken(double seconds) { ttft_.observe(seconds); }
  void observeInterToken(double seconds) { inter_token_.observe(seconds); }
  void observeEndToEnd(double seconds) { e2e_.observe(seconds); }
  void observeQueueTime(double seconds) { queue_.observe(seconds); }
  void countPromptTokens(int n) { prompt_tokens_ += n; }
  void countGenerationTokens(int n) { generation_tokens_ += n; }
  void countFinished(const std::string& reason) { ++finished_[reason]; }
  void countFault(const std::string& kind) { ++faults_injected_[kind]; }

  std::string render(const net::AsyncSemaphore& slots, const Faults& faults,
                     std::string_view version) const;

 private:
  std::string model_name_;
  stats::BucketHistogram ttft_;
  stats::BucketHistogram inter_token_;
  stats::BucketHistogram e2e_;
  stats::BucketHistogram queue_;
  double prompt_tokens_ = 0;
  double generation_tokens_ = 0;
  std::map<std::string, double> finished_;
  std::map<std::string, double> faults_injected_;
};

}  // namespace dw::model
