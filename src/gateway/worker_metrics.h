// The gateway's request counters, one shard per worker (STYLE.md, Threading: metrics are
// worker-local shards with plain increments, merged when read). A counter is written by its
// worker only, as a relaxed load and store (no locked instruction), and read by the thread that
// renders /metrics. The full metric families of R1 build on this in src/observe.
//
// Thread contract: increments on the owning worker; reads from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace dw::gateway {

class ShardCounter {
 public:
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

enum class UpstreamError { kConnect, kTimeout, kReset, kBadResponse, kStatus5xx, kCount };
inline constexpr const char* kUpstreamErrorNames[] = {"connect", "timeout", "reset", "bad_response",
                                                      "status_5xx"};

// Why the gateway itself answered instead of an upstream.
enum class LocalReply {
  kBadRequest,
  kModelNotFound,
  kOverloaded,
  kNoHealthyUpstream,
  kUpstreamFailed,
  kUpstreamTimeout,
  kUnauthenticated,
  kForbidden,
  kPiiBlocked,
  kCount
};
inline constexpr const char* kLocalReplyNames[] = {
    "bad_request",      "model_not_found", "overloaded", "no_healthy_upstream", "upstream_failed",
    "upstream_timeout", "unauthenticated", "forbidden",  "pii_blocked"};

struct WorkerMetrics {
  // Bounded by design: model ids come from config (docs/design/metrics.md), and a model beyond
  // kMaxModels shares the last row.
  static constexpr int kMaxModels = 64;
  static constexpr int kCodeClasses = 6;  // 1xx..5xx, then "other".

  static int codeClass(int status) {
    return status >= 100 && status < 600 ? status / 100 - 1 : kCodeClasses - 1;
  }
  static int modelRow(uint32_t model_id) {
    return model_id < kMaxModels ? static_cast<int>(model_id) : kMaxModels - 1;
  }

  std::array<std::array<ShardCounter, kCodeClasses>, kMaxModels> responses;
  std::array<ShardCounter, static_cast<int>(UpstreamError::kCount)> upstream_errors;
  std::array<ShardCounter, static_cast<int>(LocalReply::kCount)> local_replies;
  // Personal data found in requests, by model and type (R7).
  std::array<std::array<ShardCounter, security::kPiiTypeCount>, kMaxModels> pii;
  std::array<ShardCounter, kMaxModels> queued;  // Waiting for the model's limiter (R3 queue).
  std::array<ShardCounter, kMaxModels> active;  // Admitted and not finished.
  // Tries sent out of the gateway's zone: none of its zone's replicas was usable (R9).
  std::array<ShardCounter, kMaxModels> cross_zone;
  ShardCounter retries;
  ShardCounter streams;
  // Non-streamed answers past limits.max_buffered_response_bytes, relayed without being held.
  ShardCounter unbuffered_responses;
  ShardCounter in_flight;  // Goes up and down.
};

}  // namespace dw::gateway
#include "security/pii_detectors.h"
