#include "observe/aggregator.h"

#include <chrono>
#include <cmath>

#include "base/log.h"
#include "stats/distance.h"

namespace dw::observe {
namespace {

constexpr int kRingTicks = 60;  // Level 0: per-tick deltas. Level 1: blocks of this many ticks.

double sumRange(const std::vector<double>& v, int begin, int count) {
  double total = 0;
  for (int i = begin; i < begin + count; ++i) {
    total += v[i];
  }
  return total;
}

// The q-quantile of a log-bucketed histogram given as counts, or NaN when empty.
double quantile(const std::vector<double>& v, int begin, const stats::LogBuckets& buckets,
                double q) {
  const double total = sumRange(v, begin, buckets.count());
  if (total <= 0) {
    return NAN;
  }
  const double rank = std::floor(q * (total - 1));
  double seen = 0;
  for (int i = 0; i < buckets.count(); ++i) {
    seen += v[begin + i];
    if (seen > rank) {
      return buckets.value(i);
    }
  }
  return buckets.value(buckets.count() - 1);
}

std::string windowName(Duration d) { return formatDuration(d); }

}  // namespace

struct Aggregator::SeriesState {
  explicit SeriesState(int n, size_t windows)
      : previous(n, 0),
        ring0(static_cast<size_t>(n) * kRingTicks, 0),
        ring1(static_cast<size_t>(n) * kRingTicks, 0),
        block(n, 0),
        sums(windows, std::vector<uint64_t>(n, 0)) {}

  SeriesName name;
  std::vector<uint64_t> totals;
  std::vector<uint64_t> previous;
  std::vector<uint64_t> ring0;              // kRingTicks per-tick deltas.
  std::vector<uint64_t> ring1;              // kRingTicks per-block sums.
  std::vector<uint64_t> block;              // The block being filled.
  std::vector<std::vector<uint64_t>> sums;  // Per window: the sum of its deltas (or blocks).
  int64_t ticks_seen = 0;
  int64_t blocks_seen = 0;
  int ticks_in_block = 0;
};

Aggregator::Aggregator(ObserveConfig config, std::vector<const WorkerShard*> shards,
                       std::vector<std::string> labels, Namer namer)
    : config_(std::move(config)),
      shards_(std::move(shards)),
      labels_(std::move(labels)),
      namer_(std::move(namer)),
      series_(kMaxSeries) {
  for (Duration window : config_.windows) {
    WindowSpec spec;
    spec.name = windowName(window);
    spec.ticks = std::max<int>(1, static_cast<int>(window / config_.granularity));
    if (spec.ticks > kRingTicks) {
      spec.blocks = (spec.ticks + kRingTicks - 1) / kRingTicks;
    }
    if (window == config_.drift_window) {
      drift_window_ = static_cast<int>(windows_.size());
    }
    windows_.push_back(spec);
  }
  labels_.push_back("other");
  snapshot_ = std::make_shared<MetricsSnapshot>();
}

Aggregator::~Aggregator() = default;

void Aggregator::tick() {
  const int n = Layout::get().size();
  ++ticks_;
  std::vector<const std::atomic<uint64_t>*> sources;
  for (int id = 0; id < kMaxSeries; ++id) {
    sources.clear();
    for (const WorkerShard* shard : shards_) {
      if (const auto* counters = shard->peek(id)) {
        sources.push_back(counters);
      }
    }
    if (sources.empty() && !series_[id]) {
      continue;
    }
    if (!series_[id]) {
      series_[id] = std::make_unique<SeriesState>(n, windows_.size());
    }
    SeriesState& s = *series_[id];
    s.totals.assign(n, 0);
    for (const auto* counters : sources) {
      for (int i = 0; i < n; ++i) {
        s.totals[i] += counters[i].load(std::memory_order_relaxed);
      }
    }
    namer_(id, &s.name);
    const size_t slot0 = static_cast<size_t>(s.ticks_seen % kRingTicks) * n;
    // Slide the tick windows: add this tick, drop the one that leaves (read before the ring
    // slot is overwritten: a 60-tick window drops the very slot this tick reuses).
    for (size_t w = 0; w < windows_.size(); ++w) {
      if (windows_[w].blocks > 0) {
        continue;
      }
      const int length = windows_[w].ticks;
      std::vector<uint64_t>& sum = s.sums[w];
      const bool full = s.ticks_seen >= length;
      const size_t expired = static_cast<size_t>((s.ticks_seen - length) % kRingTicks) * n;
      for (int i = 0; i < n; ++i) {
        sum[i] += s.totals[i] - s.previous[i];
        if (full) {
          sum[i] -= s.ring0[expired + i];
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t delta = s.totals[i] - s.previous[i];
      s.ring0[slot0 + i] = delta;
      s.block[i] += delta;
    }
    s.previous = s.totals;
    ++s.ticks_seen;
    if (++s.ticks_in_block == kRingTicks) {
      // A block is complete: slide the block windows.
      const size_t slot1 = static_cast<size_t>(s.blocks_seen % kRingTicks) * n;
      for (size_t w = 0; w < windows_.size(); ++w) {
        const int blocks = windows_[w].blocks;
        if (blocks == 0) {
          continue;
        }
        std::vector<uint64_t>& sum = s.sums[w];
        const bool full = s.blocks_seen >= blocks;
        const size_t expired = static_cast<size_t>((s.blocks_seen - blocks) % kRingTicks) * n;
        for (int i = 0; i < n; ++i) {
          sum[i] += s.block[i];
          if (full) {
            sum[i] -= s.ring1[expired + i];
          }
        }
      }
      std::copy(s.block.begin(), s.block.end(), s.ring1.begin() + static_cast<ptrdiff_t>(slot1));
      std::fill(s.block.begin(), s.block.end(), 0);
      s.ticks_in_block = 0;
      ++s.blocks_seen;
    }
  }

  auto snapshot = std::make_shared<MetricsSnapshot>();
  snapshot->ticks = ticks_;
  snapshot->labels = labels_;
  snapshot->drift_window = windows_.empty() ? "" : windows_[drift_window_].name;
  for (const WindowSpec& spec : windows_) {
    snapshot->window_names.push_back(spec.name);
  }
  std::map<std::string, std::vector<std::vector<double>>> by_model;  // Window sums per model.
  for (int id = 0; id < kMaxSeries; ++id) {
    if (!series_[id] || series_[id]->name.model.empty()) {
      continue;
    }
    const SeriesState& s = *series_[id];
    SeriesStats stats_out;
    stats_out.id = id;
    stats_out.name = s.name;
    stats_out.totals = s.totals;
    auto& model_sums = by_model[s.name.model];
    model_sums.resize(windows_.size(), std::vector<double>(n, 0));
    for (size_t w = 0; w < windows_.size(); ++w) {
      std::vector<double> sums(s.sums[w].begin(), s.sums[w].end());
      if (windows_[w].blocks > 0) {
        for (int i = 0; i < n; ++i) {
          sums[i] += static_cast<double>(s.block[i]);  // The block being filled counts too.
        }
      }
      for (int i = 0; i < n; ++i) {
        model_sums[w][i] += sums[i];
      }
      WindowStats window_stats = stats(sums, static_cast<int>(w));
      // Seconds this window covers so far, for rates.
      const double tick_seconds = toSeconds(config_.granularity);
      const double covered =
          windows_[w].blocks > 0
              ? (std::min<int64_t>(windows_[w].blocks, s.blocks_seen) * kRingTicks +
                 s.ticks_in_block) *
                    tick_seconds
              : std::min<int64_t>(windows_[w].ticks, s.ticks_seen) * tick_seconds;
      window_stats.qps = covered > 0 ? window_stats.requests / covered : 0;
      stats_out.windows.push_back(window_stats);
    }
    snapshot->series.push_back(std::move(stats_out));
  }
  for (auto& [model, sums] : by_model) {
    ModelStats model_stats;
    model_stats.model = model;
    for (size_t w = 0; w < windows_.size(); ++w) {
      WindowStats window_stats = stats(sums[w], static_cast<int>(w));
      double qps = 0;
      for (const SeriesStats& series : snapshot->series) {
        if (series.name.model == model) {
          qps += series.windows[w].qps;
        }
      }
      window_stats.qps = qps;
      model_stats.windows.push_back(window_stats);
    }
    auto baseline = baselines_.find(model);
    if (baseline != baselines_.end() && !windows_.empty()) {
      model_stats.has_baseline = true;
      drift(sums[drift_window_], baseline->second, &model_stats);
    }
    snapshot->models.push_back(std::move(model_stats));
  }
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(snapshot);
}

WindowStats Aggregator::stats(const std::vector<double>& sums, int) const {
  const Layout& layout = Layout::get();
  const stats::LogBuckets& latency = layout.latencyBuckets();
  WindowStats out;
  for (int e = 0; e < kEndpoints; ++e) {
    for (int c = 0; c < kCodeSlots; ++c) {
      for (int stream = 0; stream < 2; ++stream) {
        out.requests += sums[layout.requests(static_cast<Endpoint>(e), c, stream == 1)];
      }
    }
  }
  if (out.requests >= config_.min_samples) {
    double errors = 0;
    for (int e = 0; e < kEndpoints; ++e) {
      for (int c = 0; c + 1 < kCodeSlots; ++c) {
        if (kTrackedCodes[c] >= 500) {
          for (int stream = 0; stream < 2; ++stream) {
            errors += sums[layout.requests(static_cast<Endpoint>(e), c, stream == 1)];
          }
        }
      }
    }
    out.error_ratio = errors / out.requests;
  }
  out.p50 = quantile(sums, layout.duration(0), latency, 0.50);
  out.p95 = quantile(sums, layout.duration(0), latency, 0.95);
  out.p99 = quantile(sums, layout.duration(0), latency, 0.99);
  out.ttft_p50 = quantile(sums, layout.ttft(0), latency, 0.50);
  out.ttft_p95 = quantile(sums, layout.ttft(0), latency, 0.95);
  out.ttft_p99 = quantile(sums, layout.ttft(0), latency, 0.99);
  const double inputs = sums[layout.inputRequests()];
  if (inputs >= config_.min_samples) {
    out.abnormal_ratio = sums[layout.inputAbnormalAny()] / inputs;
  }
  const double scored = sums[layout.confidenceScored()];
  if (scored >= config_.min_samples) {
    out.low_confidence_ratio = sums[layout.lowConfidence()] / scored;
    double weighted = 0;
    for (int b = 0; b < kConfidenceBins; ++b) {
      weighted += sums[layout.confidenceBin(b)] * (b + 0.5) / kConfidenceBins;
    }
    out.mean_confidence = weighted / scored;
  }
  return out;
}

std::map<std::string, std::vector<double>> Aggregator::histograms(
    const std::vector<double>& sums) const {
  const Layout& layout = Layout::get();
  const int size_buckets = layout.sizeBuckets().count();
  auto slice = [&](int begin, int count) {
    return std::vector<double>(sums.begin() + begin, sums.begin() + begin + count);
  };
  std::map<std::string, std::vector<double>> out;
  out["script"] = slice(layout.script(Script::kCjk), kScripts);
  out["vocabulary"] = slice(layout.tokenBin(0), kTokenBins);
  out["prompt_chars"] = slice(layout.promptChars(0), size_buckets);
  out["prompt_tokens"] = slice(layout.promptTokensHist(0), size_buckets);
  out["messages"] = slice(layout.messages(0), size_buckets);
  out["label"] = slice(layout.label(0), static_cast<int>(labels_.size()) - 1);
  out["label"].push_back(sums[layout.label(kMaxLabels)]);  // "other"
  out["finish_reason"] = slice(layout.finish(0), kFinishSlots);
  out["confidence"] = slice(layout.confidenceBin(0), kConfidenceBins);
  out["output_tokens"] = slice(layout.outputTokens(0), size_buckets);
  return out;
}

std::vector<double> Aggregator::modelWindow(const std::string& model, int window) const {
  const int n = Layout::get().size();
  std::vector<double> sums(n, 0);
  for (const auto& state : series_) {
    if (!state || state->name.model != model) {
      continue;
    }
    for (int i = 0; i < n; ++i) {
      sums[i] += static_cast<double>(state->sums[window][i]);
      if (windows_[window].blocks > 0) {
        sums[i] += static_cast<double>(state->block[i]);
      }
    }
  }
  return sums;
}

namespace {

double total(const std::vector<double>& v) {
  double t = 0;
  for (double x : v) {
    t += x;
  }
  return t;
}

// The value each size bucket stands for, as the sample positions of a weighted Wasserstein.
std::vector<double> bucketValues(const stats::LogBuckets& buckets) {
  std::vector<double> values(buckets.count());
  for (int i = 0; i < buckets.count(); ++i) {
    values[i] = buckets.value(i);
  }
  return values;
}

}  // namespace

void Aggregator::drift(const std::vector<double>& current, const Baseline& baseline,
                       ModelStats* out) const {
  const auto now = histograms(current);
  const double min_samples = config_.min_samples;
  static const std::vector<double> kSizeValues = bucketValues(Layout::get().sizeBuckets());
  auto numeric = [&](const std::string& name) {
    FeatureDrift d;
    auto base = baseline.histograms.find(name);
    const auto& cur = now.at(name);
    if (base == baseline.histograms.end() || base->second.size() != cur.size() ||
        total(cur) < min_samples || total(base->second) < min_samples) {
      return d;
    }
    d.wasserstein = stats::normalizedWasserstein(kSizeValues, kSizeValues, base->second, cur);
    return d;
  };
  auto categorical = [&](const std::string& name, std::vector<double> cur,
                         std::vector<double> base) {
    FeatureDrift d;
    if (cur.size() != base.size() || cur.empty() || total(cur) < min_samples ||
        total(base) < min_samples) {
      return d;
    }
    const auto p = stats::smoothed(cur, config_.smoothing);
    const auto q = stats::smoothed(base, config_.smoothing);
    d.kl = stats::klDivergence(p, q);
    d.js = stats::jensenShannonDistance(p, q);
    d.psi = stats::populationStabilityIndex(p, q);
    (void)name;
    return d;
  };
  auto base_of = [&](const std::string& name) {
    auto it = baseline.histograms.find(name);
    return it == baseline.histograms.end() ? std::vector<double>() : it->second;
  };
  for (const char* name : {"prompt_chars", "prompt_tokens", "messages"}) {
    out->input[name] = numeric(name);
  }
  for (const char* name : {"script", "vocabulary"}) {
    out->input[name] = categorical(name, now.at(name), base_of(name));
  }
  out->output["output_tokens"] = numeric("output_tokens");
  for (const char* name : {"finish_reason", "confidence"}) {
    out->output[name] = categorical(name, now.at(name), base_of(name));
  }
  // Labels align by name: the baseline may have been captured with another label set.
  std::vector<double> base_labels(labels_.size(), 0);
  const std::vector<double> stored = base_of("label");
  for (size_t i = 0; i < stored.size() && i < baseline.labels.size(); ++i) {
    auto it = std::find(labels_.begin(), labels_.end(), baseline.labels[i]);
    base_labels[it == labels_.end() ? labels_.size() - 1
                                    : static_cast<size_t>(it - labels_.begin())] += stored[i];
  }
  out->output["label"] = categorical("label", now.at("label"), base_labels);
}

StatusOr<Baseline> Aggregator::captureBaseline(const std::string& model,
                                               const std::string& window) {
  int w = drift_window_;
  if (!window.empty()) {
    w = -1;
    for (size_t i = 0; i < windows_.size(); ++i) {
      if (windows_[i].name == window) {
        w = static_cast<int>(i);
      }
    }
    if (w < 0) {
      return invalidArgument("no window '" + window + "' is configured");
    }
  }
  if (windows_.empty()) {
    return failedPrecondition("no windows are configured");
  }
  const std::vector<double> sums = modelWindow(model, w);
  const double requests = sums[Layout::get().inputRequests()];
  if (requests < config_.min_samples) {
    return failedPrecondition("model '" + model + "' has " + std::to_string(int64_t(requests)) +
                              " requests in the " + windows_[w].name +
                              " window; a baseline needs " + std::to_string(config_.min_samples));
  }
  Baseline baseline;
  baseline.model = model;
  baseline.window = windows_[w].name;
  baseline.requests = static_cast<uint64_t>(requests);
  baseline.captured_at = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  baseline.histograms = histograms(sums);
  baseline.labels = labels_;
  return baseline;
}

void Aggregator::setBaseline(Baseline baseline) {
  std::string model = baseline.model;
  baselines_[model] = std::move(baseline);
}

const Baseline* Aggregator::baseline(const std::string& model) const {
  auto it = baselines_.find(model);
  return it == baselines_.end() ? nullptr : &it->second;
}

std::shared_ptr<const MetricsSnapshot> Aggregator::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

}  // namespace dw::observe
