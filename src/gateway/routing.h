// The routing table: which model names exist, their versions with weights and tracks, and the
// replicas of each version. It is an immutable snapshot that the control thread replaces as a
// whole (read-copy-update, docs/design/routing-snapshot.md): a worker takes the current one at
// the start of a request and keeps it until the request ends, so a weight change never tears a
// request and the hot path takes no lock.
//
// Replica and model identities (ids, health) outlive snapshots: they live in a Registry that
// hands the same Replica object to every snapshot naming the same URL, so health survives a
// reload or a weight change.
//
// Thread contract: a RoutingTable is immutable and shared by every thread. Replica::healthy is
// written by the control thread and read by workers (relaxed atomics: a stale read only routes
// one request by the previous health); Replica::ejections is counted by workers and read by the
// thread that renders metrics. Registry is used by the control thread only.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "gateway/config.h"
#include "security/pii_scanner.h"

namespace dw::gateway {

// Why a worker took a replica out of rotation (passive health, OutlierConfig).
enum class EjectionReason { kConsecutiveFailures, kConnectRefused, kLatency, kCount };
inline constexpr const char* kEjectionReasonNames[] = {"consecutive_failures", "connect_refused",
                                                       "latency"};

// An upstream replica, shared by every snapshot that routes to it.
struct Replica {
  uint32_t id = 0;  // Dense, for worker-local arrays.
  std::string url;
  std::string host;
  uint16_t port = 0;
  std::string host_header;  // "host:port", sent as Host.
  std::string path_prefix;
  boost::asio::ip::tcp::endpoint endpoint;  // Resolved when the replica is first built.
  bool resolved = false;
  std::atomic<bool> healthy{true};  // Active health checks; optimistic until the first check.
  // When a health check last succeeded (steady clock, ns): lifts a worker's ejection of a
  // replica that refused connections, as soon as it is back.
  std::atomic<int64_t> last_check_ok_ns{0};
  // When health checks last marked it healthy again after marking it down (steady clock, ns):
  // it restarted or its engine came back, so a worker's ejection from before is lifted.
  std::atomic<int64_t> recovered_ns{0};
  // Ejections by any worker, by EjectionReason (each worker ejects on its own). Rare events, so
  // a shared relaxed counter costs the hot path nothing; read when metrics are rendered. Mutable:
  // workers see replicas through the immutable snapshot, and a count is not routing state.
  mutable std::array<std::atomic<uint64_t>, static_cast<size_t>(EjectionReason::kCount)>
      ejections{};
};

struct VersionRoute {
  std::string id;
  Track track = Track::kStable;
  double weight = 0;
  std::string upstream_model;
  // The gateway's own zone first (R9): replicas[0, local_replicas) are in it (or unlabelled),
  // the rest in other zones. Without a gateway zone, all of them are local.
  std::vector<std::shared_ptr<Replica>> replicas;
  size_t local_replicas = 0;
  std::vector<std::string> zones;  // Parallel to replicas, as configured.
};

struct ModelRoute {
  uint32_t id = 0;  // Dense and stable across snapshots, for worker-local arrays.
  ModelConfig config;
  std::vector<VersionRoute> versions;
  // R7: the model's PII scanner (null when desensitization is off) and what to do with a find.
  std::shared_ptr<const security::PiiScanner> pii;
  security::PiiModelConfig pii_policy;
};

class RoutingTable {
 public:
  // The configuration this table was built from (limits, timeouts, upstream policy).
  const GatewayConfig& config() const { return config_; }
  // Null when no model or alias has this name.
  const ModelRoute* find(std::string_view name) const;
  const std::vector<std::unique_ptr<ModelRoute>>& models() const { return models_; }
  // The `GET /v1/models` body, built once per snapshot.
  const std::string& modelListJson() const { return model_list_json_; }
  uint64_t generation() const { return generation_; }
  uint32_t maxReplicaId() const { return max_replica_id_; }
  uint32_t maxModelId() const { return max_model_id_; }

 private:
  friend class Registry;
  GatewayConfig config_;
  std::vector<std::unique_ptr<ModelRoute>> models_;
  std::unordered_map<std::string, const ModelRoute*> by_name_;  // Names and aliases.
  std::string model_list_json_;
  uint64_t generation_ = 0;
  uint32_t max_replica_id_ = 0;
  uint32_t max_model_id_ = 0;
};

// Builds snapshots and keeps the identities that outlive them. Control thread only.
class Registry {
 public:
  // A snapshot of `config`, reusing the Replica objects of URLs seen before.
  std::shared_ptr<const RoutingTable> build(const GatewayConfig& config);

  // Every replica ever built, by URL (for health checks).
  std::vector<std::shared_ptr<Replica>> replicas() const;

 private:
  std::shared_ptr<const security::PiiScanner> piiScanner(const security::PiiConfig& config,
                                                         const std::string& mode);
  std::map<std::string, std::shared_ptr<Replica>> replicas_;
  std::map<std::string, uint32_t> model_ids_;
  // Scanners by mode: compiled once, shared by every snapshot (RE2 compiles are not cheap).
  std::map<std::string, std::shared_ptr<const security::PiiScanner>> pii_scanners_;
  uint64_t generation_ = 0;
};

// Picks a version index of `model` for a request: by weight among the stable and canary versions
// that `usable` accepts, `u` in [0, 1) choosing along the cumulative weights; when none of those
// is usable, the first usable standby version (R4, standby takeover); -1 when nothing is usable.
template <typename Usable>
int pickVersion(const ModelRoute& model, double u, Usable&& usable) {
  double total = 0;
  for (const VersionRoute& v : model.versions) {
    if (v.track != Track::kStandby && v.weight > 0 && usable(v)) {
      total += v.weight;
    }
  }
  if (total > 0) {
    double point = u * total;
    int last = -1;
    for (size_t i = 0; i < model.versions.size(); ++i) {
      const VersionRoute& v = model.versions[i];
      if (v.track != Track::kStandby && v.weight > 0 && usable(v)) {
        last = static_cast<int>(i);
        point -= v.weight;
        if (point < 0) {
          return last;
        }
      }
    }
    return last;  // Rounding at the top end.
  }
  for (size_t i = 0; i < model.versions.size(); ++i) {
    if (model.versions[i].track == Track::kStandby && usable(model.versions[i])) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Maps a 64-bit hash to [0, 1), for sticky version choice.
inline double unitInterval(uint64_t hash) { return static_cast<double>(hash >> 11) * 0x1.0p-53; }

}  // namespace dw::gateway
