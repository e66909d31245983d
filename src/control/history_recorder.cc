#include "control/history_recorder.h"

#include <algorithm>
#include <cmath>

#include "base/log.h"
#include "observe/layout.h"

namespace dw::control {

namespace {

double orZero(double v) { return std::isnan(v) ? 0.0 : v; }

}  // namespace

HistoryRecorder::HistoryRecorder(gateway::Gateway& gateway, Prober& prober,
                                 store::MetricsHistory history)
    : gateway_(gateway), prober_(prober), history_(std::move(history)) {}

void HistoryRecorder::tick(std::chrono::system_clock::time_point now) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t minute = ms / 60000;
  if (minute == minute_) {
    return;
  }
  const bool first = minute_ == 0;
  minute_ = minute;
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
  std::vector<store::HistoryRow> rows;
  for (const auto& s : snapshot->series) {
    if (s.windows.size() <= w || s.totals.empty()) {
      continue;
    }
    const auto key = std::make_pair(s.name.model, s.name.version);
    const observe::WindowStats& ws = s.windows[w];
    store::HistoryRow row;
    row.at_ms = (minute - 1) * 60000;  // The minute that just ended.
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
  if (minute % 60 == 0) {
    (void)history_.prune(ms - store::MetricsHistory::kDefaultRetentionMs);
  }
}

}  // namespace dw::control
