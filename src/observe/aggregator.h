// The control thread's view of the metrics: at every tick (the granularity, R9) it merges the
// workers' shards into totals, keeps sliding windows of the per-tick deltas, derives rates,
// quantiles and ratios per window, and measures drift of each model's inputs and outputs
// against its baseline (docs/design/metrics.md).
//
// Windows up to 60 ticks slide tick by tick over a ring of per-tick deltas; longer windows slide
// in blocks of 60 ticks (a 1 h window at 1 s granularity moves once a minute).
//
// Thread contract: tick(), captureBaseline() and setBaseline() on the control thread;
// snapshot() from any thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "observe/baseline.h"
#include "observe/config.h"
#include "observe/shard.h"

namespace dw::observe {

struct SeriesName {
  std::string model;
  std::string version;
};

struct WindowStats {
  double requests = 0;
  double qps = 0;
  double p50 = NAN, p95 = NAN, p99 = NAN;                 // Request duration, seconds.
  double ttft_p50 = NAN, ttft_p95 = NAN, ttft_p99 = NAN;  // Time to first token.
  double abnormal_ratio = NAN;                            // Abnormal inputs / inputs (R1.1).
  double low_confidence_ratio = NAN;  // Low-confidence answers / scored answers (R1.2).
  double mean_confidence = NAN;
  double error_ratio = NAN;  // 5xx answers / requests.
};

// Drift of one feature against the baseline; NaN where it does not apply or lacks samples.
struct FeatureDrift {
  double wasserstein = NAN;  // Normalised by the baseline's spread (numeric features).
  double kl = NAN;
  double js = NAN;
  double psi = NAN;
};

struct ModelStats {
  std::string model;
  std::vector<WindowStats> windows;            // Over all versions, per configured window.
  std::map<std::string, FeatureDrift> input;   // By feature: prompt_chars, script, vocabulary...
  std::map<std::string, FeatureDrift> output;  // label (the LDI is its PSI), confidence...
  bool has_baseline = false;
};

struct SeriesStats {
  int id = 0;
  SeriesName name;
  std::vector<uint64_t> totals;      // Cumulative counters (layout order).
  std::vector<WindowStats> windows;  // Per configured window.
};

struct MetricsSnapshot {
  std::vector<std::string> window_names;  // "1m", "5m", "1h".
  std::string drift_window;
  std::vector<std::string> labels;  // Label names; "other" last.
  std::vector<SeriesStats> series;
  std::vector<ModelStats> models;
  int64_t ticks = 0;
};

class Aggregator {
 public:
  // `names(series_id)` names a series (from the current routing table), or returns false for a
  // series that no longer exists.
  using Namer = std::function<bool(int series_id, SeriesName* name)>;

  Aggregator(ObserveConfig config, std::vector<const WorkerShard*> shards,
             std::vector<std::string> labels, Namer namer);
  ~Aggregator();

  // Merges the shards and advances the windows by one tick. Control thread.
  void tick();

  // The distributions of `model` (all versions) over `window` (one of the configured ones, by
  // name; empty: the drift window). Control thread.
  StatusOr<Baseline> captureBaseline(const std::string& model, const std::string& window);
  void setBaseline(Baseline baseline);
  const Baseline* baseline(const std::string& model) const;

  std::shared_ptr<const MetricsSnapshot> snapshot() const;

 private:
  struct SeriesState;
  struct WindowSpec {
    std::string name;
    int ticks = 0;   // Window length in ticks.
    int blocks = 0;  // > 0: the window is this many 60-tick blocks.
  };

  std::vector<double> modelWindow(const std::string& model, int window) const;
  WindowStats stats(const std::vector<double>& sums, int window) const;
  void drift(const std::vector<double>& current, const Baseline& baseline, ModelStats* out) const;
  std::map<std::string, std::vector<double>> histograms(const std::vector<double>& sums) const;

  ObserveConfig config_;
  std::vector<const WorkerShard*> shards_;
  std::vector<std::string> labels_;
  Namer namer_;
  std::vector<WindowSpec> windows_;
  int drift_window_ = 0;
  std::vector<std::unique_ptr<SeriesState>> series_;  // By series id; null when never seen.
  std::map<std::string, Baseline> baselines_;
  int64_t ticks_ = 0;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const MetricsSnapshot> snapshot_;  // Guarded by snapshot_mutex_.
};

}  // namespace dw::observe
