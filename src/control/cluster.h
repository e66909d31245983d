// Several gateways as one (R9, issue 10): they share their routes through etcd and elect one
// controller. Each gateway still serves and measures on its own; etcd holds what must agree.
//
//  - Leader election on a lease: the instance that creates `<prefix>/leader` with its lease leads
//    and keeps the lease alive (every TTL/3); when it dies, the key goes with the lease after the
//    TTL and another instance takes it. Only the leader runs the fleet's maintenance (standby
//    takeover, rollback on accuracy, rollouts, autoscaling, the weekly report).
//  - Shared routes: a local change of a model's tracks and weights (admin API, rollout, rollback,
//    experiment) is written to `<prefix>/routes/<model>`; the leader's writes are guarded by its
//    leader key, so a deposed leader cannot write. Every instance polls the prefix for keys
//    changed since the revision it last saw (`poll`, 200 ms by default) and applies what changed.
//  - Shared keys, roles and bindings: a change made through an instance's admin API is stored at
//    `<prefix>/access/<item>` before it is made (AccessControl::setShareHook), and every instance
//    applies the items changed since it last looked, as it does routes.
//
// Thread contract: the control thread (its loops run on the control io_context).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "control/control_config.h"
#include "gateway/gateway.h"
#include "store/etcd_client.h"
#include "store/state_store.h"

namespace dw::control {

class Cluster {
 public:
  Cluster(gateway::Gateway& gateway, ClusterConfig config);

  // Registers the hooks that share local changes; before the gateway starts.
  void attach();
  // Starts the election and the route sync on the control thread.
  void start();
  void stop();
  bool leader() const { return leader_.load(std::memory_order_relaxed); }
  const std::string& name() const { return config_.name; }
  const ClusterConfig& config() const { return config_; }
  // The instance that leads, as last read from etcd (empty when none).
  const std::string& leaderName() const { return leader_name_; }
  // Where the controller keeps its state in the cluster: etcd, writable only while this
  // instance leads (store/etcd_state_store.h).
  std::unique_ptr<store::StateStore> stateStore() const;
  // GET /admin/v1/cluster: this instance, the leader, the last revision seen.
  gateway::Gateway::AdminReply handle() const;

 private:
  asio::awaitable<void> electionLoop();
  asio::awaitable<void> syncLoop();
  asio::awaitable<void> publish(std::string model, std::string document);
  void onLocalChange(const gateway::GatewayConfig& config);
  void apply(const std::string& model, const std::string& document);
  Status shareAccess(const std::string& item, const std::string& document);

  gateway::Gateway& gateway_;
  ClusterConfig config_;
  store::EtcdClient etcd_;
  std::string leader_key_;
  std::string routes_prefix_;
  std::string access_prefix_;
  int64_t access_revision_ = 0;      // The last revision of the access items seen.
  store::EtcdClient blocking_etcd_;  // For the writes made before an operation is acknowledged.
  std::atomic<bool> leader_{false};
  std::string leader_name_;
  int64_t lease_ = 0;
  int64_t revision_ = 0;
  bool running_ = false;
  bool synced_ = false;                        // The shared routes were read once.
  bool applying_ = false;                      // A remote change is being applied: not re-sent.
  std::map<std::string, std::string> known_;   // Model -> the last document sent or applied.
  std::map<std::string, std::string> unsent_;  // Model -> a document whose write failed.
  std::chrono::steady_clock::time_point last_renewed_{};
};

// The routes of one model as shared: {"versions": {"<id>": {"track", "weight"}}}.
std::string routesDocument(const gateway::ModelConfig& model);

}  // namespace dw::control
