// Detection and alerting (R2, R9) as one unit: at every tick the gateway's exported series are
// evaluated against the rules; what changed is stored as alert events; alerts are grouped into
// notifications (5-minute convergence); Alertmanager receives the alerts themselves, re-sent
// while firing; webhooks receive grouped notifications; everything bound for a sink waits in a
// persisted outbox and is retried with backoff until the sink accepts it.
//
// Thread contract: create() anywhere; evaluate(), start(), stop(), alertsJson() on the control
// thread; writeMetrics() from any thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "detect/evaluator.h"
#include "detect/grouper.h"
#include "net/asio.h"
#include "observe/exposition.h"
#include "store/database.h"
#include "store/outbox_store.h"

namespace dw::detect {

namespace asio = net::asio;

struct SinkConfig {
  enum class Kind { kAlertmanager, kWebhook, kLog };
  std::string name;
  Kind kind = Kind::kLog;
  std::string url;  // Alertmanager: its base URL (…:9093); webhook: the full URL.
};

struct AlertingConfig {
  bool enabled = true;
  bool default_rules = true;
  std::string window;  // The window the default rules watch; empty: the first one.
  std::vector<RuleConfig> rules;
  GroupingConfig grouping;
  Duration resend_delay = std::chrono::minutes(1);  // Prometheus' default.
  int64_t max_outbox = 10000;
  std::vector<SinkConfig> sinks;
};

// Parses the `alerting:` section (a node of the gateway's file, so errors keep their file:line).
StatusOr<AlertingConfig> parseAlertingConfig(const YAML::Node& node, const std::string& file);

class Alerting {
 public:
  static StatusOr<std::unique_ptr<Alerting>> create(AlertingConfig config, const std::string& ns,
                                                    const std::string& default_window,
                                                    Duration tick, store::Database& db);
  ~Alerting();

  void evaluate(std::string_view metrics_text, TimePoint now);
  void start(asio::io_context& io);
  void stop();

  // {"active": [...], "history": [...]} for GET /admin/v1/alerts.
  std::string alertsJson(int history_limit);
  void writeMetrics(observe::ExpositionWriter& writer, const std::string& ns) const;
  // Whether a critical alert fires whose labels name this model and version (control thread).
  bool criticalFiring(const std::string& model, const std::string& version) const;

 private:
  Alerting() = default;
  void enqueue(const SinkConfig& sink, const std::string& url, const std::string& payload,
               TimePoint now);
  asio::awaitable<void> dispatchLoop();
  void record(const AlertEvent& event, TimePoint now);

  AlertingConfig config_;
  std::unique_ptr<Evaluator> evaluator_;
  std::unique_ptr<Grouper> grouper_;
  std::optional<store::OutboxStore> outbox_;
  std::optional<store::AlertEventStore> events_;
  std::map<uint64_t, TimePoint> last_sent_;  // Per firing alert, for Alertmanager re-sends.
  asio::io_context* io_ = nullptr;
  std::unique_ptr<asio::steady_timer> wake_;
  bool running_ = false;
  Duration lease_{};

  // Counters for /metrics, read from other threads.
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, int64_t> active_;  // (alertname, severity)
  std::map<std::string, uint64_t> events_total_;                   // By kind.
  std::map<std::pair<std::string, std::string>, uint64_t> sent_;   // (sink, result)
  int64_t outbox_length_ = 0;
  size_t groups_ = 0;
};

}  // namespace dw::detect
