// `deepwatch serve`: the gateway process. It owns the API listener (W workers, one Proxy each),
// the admin listener, and the control thread, which runs health checks, reloads and admin
// operations and publishes routing snapshots to the workers.
//
// Thread contract: create(), start(), reload() and stop() are called from the main thread;
// reload() and admin operations run on the control thread and wait for it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "gateway/access_control.h"
#include "gateway/audit_trail.h"
#include "gateway/config.h"
#include "gateway/dashboard.h"
#include "gateway/feedback.h"
#include "gateway/health_checker.h"
#include "gateway/memory_guard.h"
#include "gateway/proxy.h"
#include "gateway/resource_scraper.h"
#include "gateway/route_persistence.h"
#include "gateway/routing.h"
#include "gateway/snapshot.h"
#include "net/http_server.h"
#include "observe/aggregator.h"
#include "observe/exposition.h"
#include "observe/label_extractor.h"
#include "security/privacy_ledger.h"
#include "store/baseline_store.h"
#include "store/database.h"

namespace dw::gateway {

namespace asio = net::asio;

class Gateway {
 public:
  static StatusOr<std::unique_ptr<Gateway>> create(GatewayConfig config);
  ~Gateway();

  uint16_t apiPort() const { return api_->port(); }
  uint16_t adminPort() const { return admin_->port(); }

  // Extension points for the layers above (detect, control); set before start(). Hooks and
  // admin routes run on the control thread; metrics sources on the scraping thread.
  using TickHook = std::function<void(std::chrono::system_clock::time_point)>;
  struct AdminReply {
    int status = 200;
    std::string body;
  };
  // The caller is authenticated and authorized before a route runs (AccessControl).
  using AdminRoute = std::function<AdminReply(const net::Request&, const AdminCaller&)>;
  void addTickHook(TickHook hook) { tick_hooks_.push_back(std::move(hook)); }
  void addAdminRoute(std::string prefix, AdminRoute route) {
    admin_routes_.emplace_back(std::move(prefix), std::move(route));
  }
  void addMetricsSource(std::function<void(observe::ExpositionWriter&)> source) {
    metrics_sources_.push_back(std::move(source));
  }
  // The exposition in the Prometheus text format (what the rules are evaluated on).
  std::string metricsText() const {
    return renderMetrics(observe::ExpositionFormat::kPrometheusText);
  }
  // Control thread: edits the running configuration (weights, tracks, the replicas of launched
  // versions) and publishes a new routing snapshot at once.
  // `notify` false: a change that came from elsewhere (another gateway), not sent on.
  Status mutate(const std::function<Status(GatewayConfig&)>& edit, bool notify = true);
  // Called on the control thread after every local change of the routes (mutate, the weights
  // API), with the new configuration: how a cluster shares them (control/cluster).
  void addRoutesHook(std::function<void(const GatewayConfig&)> hook) {
    routes_hooks_.push_back(std::move(hook));
  }
  // Applied to a reloaded file before it replaces the running configuration, so that state the
  // control plane owns (launched replicas, rollout weights) survives SIGHUP. Control thread.
  void addReloadHook(
      std::function<void(const GatewayConfig& running, GatewayConfig& loaded)> hook) {
    reload_hooks_.push_back(std::move(hook));
  }
  std::shared_ptr<const RoutingTable> routes() const { return routes_.load(); }
  std::shared_ptr<const observe::MetricsSnapshot> observed() const {
    return aggregator_->snapshot();
  }
  asio::io_context& controlContext() { return control_io_; }
  // The last scrape of each replica's engine metrics and of the host (R1.3).
  ResourceReadings resourceReadings() const;
  store::Database& database() { return *database_; }
  // User feedback per series (R6): experiments count it toward accuracy.
  const FeedbackBook& feedback() const { return feedback_->book(); }
  // The audit log (R8): the controller records what it does on its own here.
  AuditTrail& audit() { return *audit_; }
  // Keys, roles and bindings (R7): how a cluster shares them (control/cluster). Control thread.
  AccessControl& access() { return *access_; }
  std::shared_ptr<const security::AccessPolicy> accessPolicy() const {
    return access_policy_.load();
  }
  const GatewayConfig& config() const { return config_; }
  // observe.namespace, fixed at start: any thread (metrics sources run on admin workers, where
  // config() would race with a reload).
  const std::string& metricsNamespace() const { return metrics_ns_; }

  void start();
  // Reloads the configuration file. A bad file keeps the running configuration; the returned
  // status says why. Thread-safe; waits for the control thread.
  Status reload();
  // Stops accepting, drains in-flight requests within the drain timeout, then stops.
  void stop();

 private:
  explicit Gateway(GatewayConfig config);
  Status init();

  // Control thread.
  Status applyConfig(GatewayConfig config);
  Status setWeights(const std::string& model, std::string_view body, std::string* result);
  std::string modelsJson() const;
  std::string renderMetrics(observe::ExpositionFormat format) const;
  void writeResources(observe::ExpositionWriter& w, const RoutingTable& table) const;
  void startTicks();
  void tick(const net::error_code& ec);
  // Once a second: hands free heap pages back when the pacer says so or when past the memory
  // limit, feeds the resident set to the memory guard, and (every 10 s) reads glibc's counts
  // for /metrics.
  void memoryTick();
  bool nameSeries(int series, observe::SeriesName* name) const;
  Status captureBaseline(const std::string& model, const std::string& window, std::string* json);
  Status importBaseline(const std::string& model, std::string_view body, std::string* json);
  Status loadBaselines();
  bool ready() const;

  // Runs `work` on the control thread and waits for its result.
  template <typename F>
  auto onControl(F work) -> decltype(work());

  asio::awaitable<void> handleAdmin(net::Exchange& exchange);
  asio::awaitable<void> dispatchAdmin(net::Exchange& exchange, const AdminCaller& caller);
  // Authenticates and authorizes an admin request; false when it was answered (401, 403).
  asio::awaitable<bool> admitAdmin(net::Exchange& exchange, AdminCaller* caller,
                                   AdminPermission* need);
  // The record of an admin operation, before it runs (R8).
  security::AuditRecord auditRecord(const net::Request& request, const AdminCaller& caller,
                                    const AdminPermission& need) const;
  std::string stableVersion(const std::string& model) const;
  StatusOr<observe::Baseline> privateBaseline(const observe::Baseline& baseline);
  static Status loadPiiKey(GatewayConfig& config);
  std::string auditJson(const net::Request& request);
  asio::awaitable<void> handleBaseline(net::Exchange& exchange, std::string model);

  GatewayConfig config_;  // Control thread.
  // What other threads read of the configuration (reload() on the caller's thread, admin
  // requests on admin workers): config_ is replaced by the control thread on every reload and
  // weight change, so reading it there raced (found by make test-tsan).
  const std::string config_file_;
  const std::string metrics_ns_;  // observe.namespace: a restart changes it, a reload does not.
  std::atomic<bool> public_metrics_;
  Registry registry_;  // Control thread.
  SnapshotSlot<RoutingTable> routes_;
  SnapshotSlot<security::AccessPolicy> access_policy_;
  std::unique_ptr<AccessControl> access_;  // Control thread.
  std::unique_ptr<AuditTrail> audit_;
  std::optional<security::PrivacyLedger> ledger_;  // Control thread.
  std::unique_ptr<net::HttpServer> api_;
  std::unique_ptr<net::HttpServer> admin_;
  std::vector<std::function<void(const GatewayConfig&)>> routes_hooks_;
  std::unique_ptr<Feedback> feedback_;  // Shared by the workers' proxies.
  Dashboard dashboard_;  // Loaded in init(); immutable after, read by the admin worker.
  std::vector<std::unique_ptr<Proxy>> proxies_;  // One per API worker.
  asio::io_context control_io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> control_work_;
  std::thread control_thread_;
  std::unique_ptr<HealthChecker> health_;
  std::unique_ptr<observe::LabelExtractor> labels_;
  std::unique_ptr<ResourceScraper> resources_;
  std::unique_ptr<observe::Aggregator> aggregator_;  // Ticks on the control thread.
  std::unique_ptr<asio::steady_timer> tick_timer_;
  std::unique_ptr<asio::steady_timer> memory_timer_;
  MemoryGuard memory_guard_{0};                           // Control thread.
  HeapReleasePacer heap_release_;                         // Control thread.
  std::chrono::steady_clock::time_point last_heap_read_;  // Control thread.
  // What /metrics reads of the memory tick (admin workers).
  std::atomic<uint64_t> memory_limit_{0};
  std::atomic<bool> memory_shedding_{false};
  std::atomic<uint64_t> heap_in_use_{0};
  std::atomic<uint64_t> heap_reserved_{0};
  std::unique_ptr<store::Database> database_;
  std::optional<store::BaselineStore> baselines_;
  std::optional<RoutePersistence> route_state_;  // Control thread.
  std::vector<TickHook> tick_hooks_;
  std::vector<std::function<void(const GatewayConfig&, GatewayConfig&)>> reload_hooks_;
  std::vector<std::pair<std::string, AdminRoute>> admin_routes_;
  std::vector<std::function<void(observe::ExpositionWriter&)>> metrics_sources_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<uint64_t> weight_changes_{0};
};

}  // namespace dw::gateway
