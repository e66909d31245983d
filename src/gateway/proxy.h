// The gateway's data path on one worker: an OpenAI-compatible request in, routed to a model
// version and replica, relayed from the upstream back to the client (DESIGN.md, The path of a
// request). Streams are relayed chunk by chunk as they arrive.
//
// Thread contract: one Proxy per worker; every method runs on that worker's thread. It owns the
// worker's upstream connection pools, per-replica outlier state, per-model limiters and metric
// shard, so the hot path shares nothing with other workers.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "gateway/feedback.h"
#include "gateway/latency_outlier.h"
#include "gateway/request_fields.h"
#include "gateway/routing.h"
#include "gateway/snapshot.h"
#include "gateway/worker_metrics.h"
#include "net/async_semaphore.h"
#include "net/http_server.h"
#include "observe/label_extractor.h"
#include "observe/output_scanner.h"
#include "observe/shard.h"
#include "security/access_policy.h"

namespace dw::gateway {

namespace asio = net::asio;

class Proxy {
 public:
  // `watchdog` is the worker's (its upstream sockets are timed by it); `workers` splits the
  // per-model limits between workers.
  Proxy(const SnapshotSlot<RoutingTable>& routes,
        const SnapshotSlot<security::AccessPolicy>& access, net::Watchdog& watchdog, int workers,
        uint64_t seed, const observe::LabelExtractor& labels, Feedback& feedback, int worker);
  ~Proxy();

  asio::awaitable<void> handle(net::Exchange& exchange);

  const WorkerMetrics& metrics() const { return metrics_; }
  const observe::WorkerShard& shard() const { return shard_; }

 private:
  struct UpstreamConnection;
  struct ReplicaLocal;
  struct ModelLocal;
  struct Attempt;
  struct Observation;

  asio::awaitable<void> proxyRequest(net::Exchange& exchange, std::string_view path,
                                     std::shared_ptr<const RoutingTable> table,
                                     const security::AccessPolicy* policy,
                                     const security::Principal* principal);
  asio::awaitable<void> runAttempt(net::Exchange& exchange, Attempt& attempt,
                                   const ModelRoute& model, int version_index,
                                   const GatewayConfig& config);
  asio::awaitable<void> localReply(net::Exchange& exchange, int status, LocalReply reason,
                                   std::string_view message, std::string_view type,
                                   std::string_view param, std::string_view code,
                                   std::string_view request_id, uint32_t model_id);

  void observe(Observation& observation, uint32_t model_id, int version_index, int status,
               bool stream);
  void observeStreamPiece(Observation& observation, std::string_view piece, int series);
  ReplicaLocal& replicaLocal(uint32_t id);
  ModelLocal& modelLocal(const ModelRoute& model, const GatewayConfig& config);
  bool usable(const Replica& replica) const;
  // Whether this worker holds `replica` out of rotation now (outlier detection).
  bool ejected(const Replica& replica) const;
  void recordFailure(const Replica& replica, const ModelRoute& model, int version_index,
                     const GatewayConfig& config);
  void recordSuccess(const Replica& replica);
  // Watchdog tick: closes pooled upstream connections idle past the reuse limit.
  void closeStaleIdle();
  void ejectRefusing(const Replica& replica, const GatewayConfig& config);
  // Takes `replica` out of rotation on this worker for the backoff's ejection time.
  void eject(const Replica& replica, ReplicaLocal& local, EjectionReason reason,
             const OutlierConfig& config);
  // A latency sample of an answer from `local`'s replica to a try that began at `started`.
  void recordLatency(ReplicaLocal& local, std::chrono::steady_clock::time_point started);
  // Compares the latencies of the replicas of every version of `table` and ejects the outliers
  // (latency_outlier.h); runs at most once per outlier interval.
  void detectLatencyOutliers(const RoutingTable& table);
  std::string requestId(const net::Request& request);
  // How relayUnbuffered() ended.
  enum class RelayEnd { kDone, kClientGone, kUpstreamFailed, kUpstreamTimeout };
  // Relays a non-streamed answer that outgrew limits.max_buffered_response_bytes: `head` (chunked
  // framing), the `held` bytes read so far, then each piece as it arrives, so that memory per
  // answer stays at the limit whatever the upstream sends (issue 9).
  asio::awaitable<RelayEnd> relayUnbuffered(
      net::Exchange& exchange, UpstreamConnection& conn,
      net::http::response_parser<net::http::buffer_body>& parser, std::string_view head,
      std::string_view held, Duration idle_timeout);
  // POST /v1/feedback (R6): rates an earlier answer of this gateway by its request id.
  asio::awaitable<void> handleFeedback(net::Exchange& exchange,
                                       const security::AccessPolicy* policy,
                                       const security::Principal* principal);

  // The caller's principal when the request carries a valid key; nullptr otherwise (and then it
  // has been answered 401).
  asio::awaitable<const security::Principal*> authenticate(net::Exchange& exchange,
                                                           const security::AccessPolicy& policy,
                                                           const std::string& request_id);

  SnapshotReader<RoutingTable> routes_;
  SnapshotReader<security::AccessPolicy> access_;
  net::Watchdog& watchdog_;
  int workers_;
  Random random_;
  RequestFieldParser fields_;
  WorkerMetrics metrics_;
  observe::WorkerShard shard_;
  observe::OutputScanner outputs_;
  const observe::LabelExtractor& labels_;
  Feedback& feedback_;
  ServedLedger& served_;  // This worker's: which version answered which request id.
  std::vector<std::unique_ptr<ReplicaLocal>> replicas_;  // By Replica::id.
  net::Watched::Clock::time_point last_idle_sweep_{};
  std::vector<std::unique_ptr<ModelLocal>> models_;  // By ModelRoute::id.
  int active_requests_ = 0;
  int active_retries_ = 0;
  // Latency outlier detection: when it runs next, and its scratch space (reused, so that a run
  // allocates nothing once the vectors have grown).
  std::chrono::steady_clock::time_point next_latency_check_{};
  LatencyDetector latency_detector_;
  std::vector<LatencyCandidate> latency_candidates_;
  std::vector<LatencyEjection> latency_ejections_;
};

}  // namespace dw::gateway
