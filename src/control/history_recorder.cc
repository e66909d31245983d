#include "control/history_recorder.h"

#include <algorithm>
#include <cmath>

#include "base/log.h"
#include "observe/layout.h"

namespace dw::control {

namespace {

double orZero(double v) { return std::isnan(v) ? 0.0 : v; }

// A version's hardware in the period (R1.3): the mean KV-cache usage and GPU utilisation of its
// replicas as their engines report them, and their summed queues. Without an engine GPU figure
// (no DCGM exporter beside it), the host's GPUs stand in when the gateway shares their host.
void fillResources(const gateway::VersionRoute& version, const gateway::ResourceReadings& readings,
                   store::HistoryRow* row) {
  double kv = 0;
  double gpu = 0;
  int kv_n = 0;
  int gpu_n = 0;
  for (const auto& replica : version.replicas) {
    auto it = readings.replicas.find(replica->id);
    if (it == readings.replicas.end() || !it->second.scraped) {
      continue;
    }
    const observe::EngineResources& e = it->second.engine;
    if (!std::isnan(e.kv_cache_usage_ratio)) {
      kv += e.kv_cache_usage_ratio;
      ++kv_n;
    }
    if (!std::isnan(e.gpu_utilization_ratio)) {
      gpu += e.gpu_utilization_ratio;
      ++gpu_n;
    }
    if (!std::isnan(e.queue_length)) {
      row->queue_length += e.queue_length;
    }
  }
  if (gpu_n == 0) {
    for (const observe::GpuReading& g : readings.host.gpus) {
      gpu += g.utilization_ratio;
      ++gpu_n;
    }
  }
  row->kv_cache_usage = kv_n > 0 ? kv / kv_n : 0;
  row->gpu_utilization = gpu_n > 0 ? gpu / gpu_n : 0;
}

}  // namespace

HistoryRecorder::HistoryRecorder(gateway::Gateway& gateway, Prober& prober,
                                 store::MetricsHistory history, Duration interval)
    : gateway_(gateway),
      prober_(prober),
      history_(std::move(history)),
      interval_ms_(std::max<int64_t>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(interval).count())) {}

void HistoryRecorder::tick(std::chrono::system_clock::time_point now) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t period = ms / interval_ms_;
  if (period == period_) {
    return;
  }
  const bool first = period_ == 0;
  const int64_t previous_period = period_;
  period_ = period;
  auto snapshot = gateway_.observed();
  if (snapshot == nullptr) {
    return;
  }
  // The one-minute window when configured, else the shortest.
  size_t w = 0;
  for (size_t i = 0; i < snapshot->window_names.size(); ++i) {
    if (snapshot->window_names[i] == "1m") {
      w = i;
    }
  }
  const observe::Layout& layout = observe::Layout::get();
  auto table = gateway_.routes();
  const gateway::ResourceReadings resources = gateway_.resourceReadings();
  std::vector<store::HistoryRow> rows;
  for (const auto& s : snapshot->series) {
    if (s.windows.size() <= w || s.totals.empty()) {
      continue;
    }
    const auto key = std::make_pair(s.name.model, s.name.version);
    const observe::WindowStats& ws = s.windows[w];
    store::HistoryRow row;
    row.at_ms = (period - 1) * interval_ms_;  // The period that just ended.
    row.model = s.name.model;
    row.version = s.name.version;
    // Requests and errors of the minute: deltas of the cumulative counters.
    const auto [requests, errors] = layout.requestTotals(s.totals);
    auto& last = last_requests_[key];
    row.requests = static_cast<int64_t>(requests - std::min(requests, last.first));
    row.errors = static_cast<int64_t>(errors - std::min(errors, last.second));
    last = {requests, errors};
    auto& previous = last_duration_[key];
    previous.resize(layout.latencyBuckets().count(), 0);
    for (int b = 0; b < layout.latencyBuckets().count(); ++b) {
      const uint64_t total = s.totals[layout.duration(b)];
      const uint64_t delta = total - std::min(total, previous[b]);
      previous[b] = total;
      if (delta > 0) {
        row.latency[store::latencyBucketFor(layout.latencyBuckets().value(b) * 1000)] +=
            static_cast<int64_t>(delta);
      }
    }
    row.qps = orZero(ws.qps);
    row.p50_ms = orZero(ws.p50) * 1000;
    row.p95_ms = orZero(ws.p95) * 1000;
    row.p99_ms = orZero(ws.p99) * 1000;
    row.ttft_p99_ms = orZero(ws.ttft_p99) * 1000;
    row.mean_confidence = orZero(ws.mean_confidence);
    row.abnormal_ratio = orZero(ws.abnormal_ratio);
    const Accuracy accuracy = prober_.accuracy(s.name.model, s.name.version);
    if (accuracy.total > 0) {
      row.accuracy = accuracy.value();
    }
    for (const auto& m : snapshot->models) {
      if (m.model != s.name.model) {
        continue;
      }
      for (const auto& [feature, drift] : m.input) {
        row.kl_max = std::max(row.kl_max, orZero(drift.kl));
      }
      if (auto label = m.output.find("label"); label != m.output.end()) {
        row.label_psi = orZero(label->second.psi);
      }
    }
    if (const gateway::ModelRoute* route = table ? table->find(s.name.model) : nullptr) {
      for (const auto& v : route->versions) {
        if (v.id == s.name.version) {
          row.replicas = static_cast<double>(v.replicas.size());
          fillResources(v, resources, &row);
        }
      }
    }
    // The first tick after a start has no earlier counters to subtract: it records nothing.
    if (!first) {
      rows.push_back(std::move(row));
    }
  }
  if (!rows.empty()) {
    if (Status st = history_.append(rows); !st.ok()) {
      DW_LOG_ERROR("metrics history: {}", st.message());
    }
  }
  if (period * interval_ms_ / 3600000 != previous_period * interval_ms_ / 3600000) {
    (void)history_.prune(ms - store::MetricsHistory::kDefaultRetentionMs);
  }
}

}  // namespace dw::control
