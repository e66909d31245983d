// The gateway's configuration (`deepwatch serve -c FILE`): listeners, limits, timeouts,
// upstream policy and models with their versions and replicas. Loaded and validated before
// anything starts; a bad file is fatal at start and keeps the running config on reload.
// See docs/configuration.md for every key and its default.
//
// Thread contract: values; a loaded config is immutable and shared by copy or shared_ptr.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "observe/config.h"
#include "security/security_config.h"

namespace dw::gateway {

using std::chrono::seconds;

enum class Track { kStable, kCanary, kStandby };
std::string_view trackName(Track track);

struct ListenerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
};

struct LimitsConfig {
  uint32_t max_header_bytes = 64 * 1024;       // 431 above (Envoy's default is 60 KiB).
  uint32_t max_header_count = 100;             // 431 above (Envoy's max_headers_count).
  uint32_t max_request_line_bytes = 8 * 1024;  // 414 above (nginx's 8k header buffer).
  uint64_t max_body_bytes = 8 * 1024 * 1024;   // 413 above.
  int max_connections = 10000;  // Per listener; more are closed at once (Envoy's edge example).
  // Request bodies held in memory at once; past it, 503 with Retry-After before the body is read.
  uint64_t max_buffered_body_bytes = 512ULL * 1024 * 1024;
  // A non-streamed answer is held whole (to retry a 502/503 elsewhere and to observe its output)
  // up to this size; a larger one is relayed as it arrives, chunked, and its output not observed.
  uint64_t max_buffered_response_bytes = 8 * 1024 * 1024;
  // Resident memory past which new requests are shed with 503 (gateway/memory_guard.h).
  // ~0 ("auto"): 90% of the cgroup's memory limit, none outside a cgroup limit; 0: off.
  uint64_t max_memory_bytes = ~0ULL;
  Duration header_timeout = seconds(10);  // Request headers and body must arrive within it.
  Duration idle_timeout = seconds(60);    // Keep-alive connections idle this long close.
  Duration send_timeout = seconds(60);    // A client that stops reading is dropped.
};

struct TimeoutsConfig {
  Duration connect = seconds(5);        // Envoy's cluster default.
  Duration first_byte = seconds(120);   // Request sent to response headers received.
  Duration stream_idle = seconds(300);  // Between two pieces of a response (Envoy's default).
  Duration request = seconds(600);      // A whole non-streamed response (504 beyond).
};

struct HealthCheckConfig {
  std::string path = "/health";
  Duration interval = seconds(5);
  Duration timeout = seconds(2);
  int unhealthy_threshold = 2;  // Consecutive failures that mark a replica down.
  int healthy_threshold = 1;    // Consecutive successes that mark it up again.
};

// Passive health, per worker (Envoy's outlier detection): a replica is ejected after consecutive
// failures, or when its latency stands out from the other replicas of its version
// (gateway/latency_outlier.h).
struct OutlierConfig {
  int consecutive_failures = 5;          // Envoy's consecutive_5xx default.
  Duration base_ejection = seconds(30);  // Multiplied by the ejections in a row (at most 10x).
  int max_ejection_percent = 50;         // Of a version's replicas; at least one may be ejected.
  Duration interval = seconds(10);       // Latencies are compared this often (Envoy's interval).
  // Ejected for latency above both latency_factor x the median of its peers and latency_min,
  // judged on at least latency_min_requests answers since its last ejection. Factor 0: off.
  double latency_factor = 3;
  Duration latency_min = std::chrono::milliseconds(500);  // R2.1's warning tier.
  int latency_min_requests = 10;
};

struct RetryConfig {
  int max_attempts = 3;           // Tries per request, the first included.
  double budget_percent = 20;     // Retries in flight at most this share of active requests.
  int min_retry_concurrency = 3;  // ... but always at least this many (Envoy's defaults).
  // Retry a request whose upstream connection was reset or closed before any byte of the
  // answer (the replica died). Off for upstreams that may have accepted and billed the work.
  bool on_reset = true;
};

struct ReplicaConfig {
  std::string url;          // http://host:port
  std::string path_prefix;  // From the URL, prepended to the request path (usually empty).
  std::string host;
  uint16_t port = 0;
  std::string zone;  // Failure domain (R9); empty: unknown, treated as the gateway's own.
};

// Replicas started as local processes by the controller's supervisor (the embedded default's
// stand-in for Kubernetes). Their URLs are http://127.0.0.1:<port>, ports from the range.
struct LaunchConfig {
  std::vector<std::string> command;  // "{port}" in an argument is replaced by the port.
  uint16_t port_first = 0;
  uint16_t port_last = 0;
  std::string zone;  // The zone of the launched replicas (this host's).
  int replicas = 1;  // Started with the gateway.
  bool enabled() const { return !command.empty(); }
};

// The HPA algorithm on a version's launched replicas (R3): desired = ceil(current x metric /
// target), tolerance 0.1, the largest over metrics, scale-down stabilised.
struct AutoscaleConfig {
  bool enabled = false;
  int min_replicas = 2;
  int max_replicas = 10;
  double target_qps = 500;  // Per replica (R3's averageValue).
  double headroom = 0.3;    // Capacity kept for bursts (R9): scale at 70% of the target.
  double target_queue = 0;  // Per replica waiting requests; 0: not a metric.
  double tolerance = 0.1;
  Duration interval = std::chrono::seconds(15);
  Duration scale_down_stabilization = std::chrono::seconds(300);
};

struct VersionConfig {
  std::string id;
  Track track = Track::kStable;
  double weight = 0;                    // Share among the stable and canary versions of the model.
  std::string upstream_model;           // The `model` sent upstream; default: the model's name.
  std::vector<ReplicaConfig> replicas;  // Given as URLs, plus the launched ones while they run.
  LaunchConfig launch;
  AutoscaleConfig autoscale;
};

enum class StickyBy { kNone, kHeader, kApiKey };

struct ModelConfig {
  std::string name;
  std::vector<std::string> aliases;
  std::vector<VersionConfig> versions;
  int max_concurrency = 1024;  // Requests in flight to this model (split across workers).
  int max_queue = 1024;        // Requests waiting beyond that; more are refused.
  int overflow_status = 429;   // 429 or 503, both with Retry-After.
  StickyBy sticky = StickyBy::kNone;
  std::string sticky_header;  // With StickyBy::kHeader.
};

struct GatewayConfig {
  std::string file;
  ListenerConfig api{"127.0.0.1", 8080};
  ListenerConfig admin{"127.0.0.1", 9090};
  // `listeners.admin.dashboard_dir`: the web dashboard's files (R6), read once at start. Empty:
  // the `web` directory next to the executable (where the build puts it).
  std::string dashboard_dir;
  int workers = 0;  // 0: one per core.
  Duration drain_timeout = seconds(30);
  LimitsConfig limits;
  TimeoutsConfig timeouts;
  HealthCheckConfig health_check;
  OutlierConfig outlier;
  RetryConfig retry;
  observe::ObserveConfig observe;
  std::string state_dir = "var";  // The SQLite state file lives here (deepwatch.db).
  // This gateway's zone (R9): requests go to replicas of the same zone while one of them is
  // usable, and to the other zones only then. Empty: no preference.
  std::string zone;
  security::SecurityConfig security;  // Keys, RBAC, PII, privacy, audit (R7, R8).
  // Sections that layers above the gateway read (src/detect: `alerting`), kept as parsed YAML so
  // that their errors still name file:line:column.
  YAML::Node alerting;
  YAML::Node control;  // src/control.
  std::vector<ModelConfig> models;
};

// The replica entry of a launched process listening on `port` of 127.0.0.1.
ReplicaConfig launchedReplica(uint16_t port, std::string zone = "");

// Parses and validates a whole configuration. Errors name file:line:column and the key.
StatusOr<GatewayConfig> parseGatewayConfig(std::string_view text, const std::string& file);
StatusOr<GatewayConfig> loadGatewayConfig(const std::string& path);

}  // namespace dw::gateway
