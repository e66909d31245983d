#include "observe/metrics_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dw::observe {
namespace {

// Classic bucket bounds exposed for the latency histograms (seconds): OpenTelemetry's advice
// for durations extended to long generations. Counts come from the 1% log buckets, so a bound
// is placed within 1% of where it says.
constexpr double kLatencyBounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1,
                                     2.5,   5,    7.5,   10,   20,    40,  80,   160, 320,  640};
constexpr double kSizeBounds[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144};

// A classic histogram from log-bucket counts in `totals` starting at `begin`.
void writeLogHistogram(ExpositionWriter& w, const std::string& name, const Labels& labels,
                       const std::vector<uint64_t>& totals, int begin,
                       const stats::LogBuckets& buckets, std::span<const double> bounds,
                       double sum) {
  std::vector<double> edges(bounds.begin(), bounds.end());
  stats::BucketHistogram histogram(edges);
  // Re-bucket: each log bucket's count goes to the first classic bound at or above its value.
  std::vector<uint64_t> counts(edges.size() + 1, 0);
  uint64_t total = 0;
  for (int i = 0; i < buckets.count(); ++i) {
    const uint64_t c = totals[begin + i];
    if (c == 0) {
      continue;
    }
    const double v = buckets.value(i);
    size_t b = std::lower_bound(edges.begin(), edges.end(), v) - edges.begin();
    counts[b] += c;
    total += c;
  }
  const std::string bucket = name + "_bucket";
  uint64_t cumulative = 0;
  std::vector<Label> with_le(labels.begin(), labels.end());
  for (size_t b = 0; b <= edges.size(); ++b) {
    cumulative += counts[b];
    const std::string le = b < edges.size() ? fmt::format("{}", edges[b]) : "+Inf";
    std::vector<Label> l = with_le;
    l.emplace_back("le", le);
    w.sampleList(bucket, l, static_cast<double>(cumulative));
  }
  w.sampleList(name + "_sum", with_le, sum);
  w.sampleList(name + "_count", with_le, static_cast<double>(total));
}

void writeGauge(ExpositionWriter& w, const std::string& name, const std::vector<Label>& labels,
                double value) {
  if (!std::isnan(value)) {
    w.sampleList(name, labels, value);
  }
}

}  // namespace

void writeObserved(ExpositionWriter& w, const MetricsSnapshot& snapshot, const std::string& ns) {
  const Layout& layout = Layout::get();
  auto name = [&](std::string_view suffix) { return ns + "_" + std::string(suffix); };

  // Requests (ECOSYSTEM.md 2.10).
  w.family(name("requests_total"), "counter",
           "API requests answered, by model, version, endpoint, status code and streaming.");
  for (const SeriesStats& s : snapshot.series) {
    for (int e = 0; e < kEndpoints; ++e) {
      for (int c = 0; c < kCodeSlots; ++c) {
        for (int stream = 0; stream < 2; ++stream) {
          const uint64_t v = s.totals[layout.requests(static_cast<Endpoint>(e), c, stream == 1)];
          if (v == 0) {
            continue;
          }
          w.sampleList(name("requests_total"),
                       {{"model", s.name.model},
                        {"version", s.name.version},
                        {"endpoint", kEndpointNames[e]},
                        {"code", codeName(c)},
                        {"stream", stream == 1 ? "true" : "false"}},
                       static_cast<double>(v));
        }
      }
    }
  }
  struct LatencyFamily {
    const char* suffix;
    const char* help;
    int begin;
    int sum;
  };
  const LatencyFamily latency[] = {
      {"request_duration_seconds", "Time from request receipt to the last byte of the answer.",
       layout.duration(0), layout.durationSumMicros()},
      {"time_to_first_token_seconds", "Time from request receipt to the first streamed token.",
       layout.ttft(0), layout.ttftSumMicros()},
      {"inter_token_latency_seconds", "Time between two streamed pieces of content.", layout.itl(0),
       layout.itlSumMicros()},
  };
  for (const LatencyFamily& f : latency) {
    w.family(name(f.suffix), "histogram", f.help);
    for (const SeriesStats& s : snapshot.series) {
      uint64_t count = 0;
      for (int i = 0; i < layout.latencyBuckets().count(); ++i) {
        count += s.totals[f.begin + i];
      }
      if (count == 0) {
        continue;
      }
      writeLogHistogram(w, name(f.suffix), {{"model", s.name.model}, {"version", s.name.version}},
                        s.totals, f.begin, layout.latencyBuckets(), kLatencyBounds,
                        static_cast<double>(s.totals[f.sum]) / 1e6);
    }
  }
  struct TokenFamily {
    const char* suffix;
    const char* help;
    int index;
  };
  const TokenFamily tokens[] = {
      {"prompt_tokens_total", "Prompt tokens, as the upstreams reported them.",
       layout.promptTokens()},
      {"completion_tokens_total", "Completion tokens, as the upstreams reported them.",
       layout.completionTokens()},
      {"cached_prompt_tokens_total", "Prompt tokens served from the upstreams' caches.",
       layout.cachedTokens()},
      {"reasoning_tokens_total", "Reasoning tokens, as the upstreams reported them.",
       layout.reasoningTokens()},
  };
  for (const TokenFamily& f : tokens) {
    w.family(name(f.suffix), "counter", f.help);
    for (const SeriesStats& s : snapshot.series) {
      w.sampleList(name(f.suffix), {{"model", s.name.model}, {"version", s.name.version}},
                   static_cast<double>(s.totals[f.index]));
    }
  }

  // Quantiles per window, from the 1% log buckets (R2.1).
  struct QuantileFamily {
    const char* suffix;
    double WindowStats::*field;
  };
  const QuantileFamily quantiles[] = {
      {"latency_p50_seconds", &WindowStats::p50},
      {"latency_p95_seconds", &WindowStats::p95},
      {"latency_p99_seconds", &WindowStats::p99},
      {"time_to_first_token_p50_seconds", &WindowStats::ttft_p50},
      {"time_to_first_token_p95_seconds", &WindowStats::ttft_p95},
      {"time_to_first_token_p99_seconds", &WindowStats::ttft_p99},
  };
  for (const QuantileFamily& f : quantiles) {
    w.family(name(f.suffix), "gauge", "A quantile of the requests in a sliding window.");
    for (const SeriesStats& s : snapshot.series) {
      for (size_t win = 0; win < snapshot.window_names.size(); ++win) {
        writeGauge(w, name(f.suffix),
                   {{"model", s.name.model},
                    {"version", s.name.version},
                    {"window", snapshot.window_names[win]}},
                   s.windows[win].*f.field);
      }
    }
  }
  w.family(name("window_requests"), "gauge", "Requests answered in a sliding window.");
  w.family(name("error_ratio"), "gauge", "5xx answers / requests in a sliding window.");
  for (const SeriesStats& s : snapshot.series) {
    for (size_t win = 0; win < snapshot.window_names.size(); ++win) {
      const std::vector<Label> l = {{"model", s.name.model},
                                    {"version", s.name.version},
                                    {"window", snapshot.window_names[win]}};
      w.sampleList(name("window_requests"), l, s.windows[win].requests);
      writeGauge(w, name("error_ratio"), l, s.windows[win].error_ratio);
    }
  }
  // The autoscaling signal of R3: requests per second over the shortest window, per model.
  w.family(name("inference_qps"), "gauge", "Requests per second over the shortest window.");
  for (const ModelStats& m : snapshot.models) {
    if (!m.windows.empty()) {
      w.sampleList(name("inference_qps"), {{"model", m.model}}, m.windows[0].qps);
    }
  }

  // Inputs (R1.1).
  w.family(name("input_requests_total"), "counter", "Requests whose input was examined.");
  w.family(name("input_abnormal_total"), "counter", "Abnormal inputs by kind.");
  for (const SeriesStats& s : snapshot.series) {
    w.sampleList(name("input_requests_total"),
                 {{"model", s.name.model}, {"version", s.name.version}},
                 static_cast<double>(s.totals[layout.inputRequests()]));
    for (int k = 0; k < kAbnormalKinds; ++k) {
      w.sampleList(
          name("input_abnormal_total"),
          {{"model", s.name.model}, {"version", s.name.version}, {"kind", kAbnormalNames[k]}},
          static_cast<double>(s.totals[layout.abnormal(static_cast<Abnormal>(k))]));
    }
  }
  w.family(name("input_prompt_tokens"), "histogram", "Prompt tokens per request (approximate).");
  for (const SeriesStats& s : snapshot.series) {
    writeLogHistogram(w, name("input_prompt_tokens"),
                      {{"model", s.name.model}, {"version", s.name.version}}, s.totals,
                      layout.promptTokensHist(0), layout.sizeBuckets(), kSizeBounds, 0);
  }
  w.family(name("input_abnormal_ratio"), "gauge", "Abnormal inputs / inputs in a window.");
  for (const ModelStats& m : snapshot.models) {
    for (size_t win = 0; win < snapshot.window_names.size(); ++win) {
      writeGauge(w, name("input_abnormal_ratio"),
                 {{"model", m.model}, {"window", snapshot.window_names[win]}},
                 m.windows[win].abnormal_ratio);
    }
  }
  struct DriftFamily {
    const char* suffix;
    const char* help;
    double FeatureDrift::*field;
  };
  const DriftFamily input_drift[] = {
      {"input_wasserstein_distance",
       "Wasserstein-1 distance of an input feature from the baseline, over the baseline's spread.",
       &FeatureDrift::wasserstein},
      {"input_kl_divergence", "KL divergence of an input histogram from the baseline (R2.2).",
       &FeatureDrift::kl},
      {"input_js_distance", "Jensen-Shannon distance of an input histogram from the baseline.",
       &FeatureDrift::js},
      {"input_psi", "Population stability index of an input histogram against the baseline.",
       &FeatureDrift::psi},
  };
  for (const DriftFamily& f : input_drift) {
    w.family(name(f.suffix), "gauge", f.help);
    for (const ModelStats& m : snapshot.models) {
      for (const auto& [feature, d] : m.input) {
        writeGauge(w, name(f.suffix), {{"model", m.model}, {"feature", feature}}, d.*f.field);
      }
    }
  }

  // Outputs (R1.2).
  w.family(name("output_confidence"), "histogram",
           "Mean token probability of each answer with logprobs.");
  w.family(name("output_finish_reason_total"), "counter", "Answers by finish reason.");
  w.family(name("output_labels_total"), "counter", "Answers by extracted label.");
  for (const SeriesStats& s : snapshot.series) {
    const std::vector<Label> base = {{"model", s.name.model}, {"version", s.name.version}};
    uint64_t cumulative = 0;
    for (int b = 0; b < kConfidenceBins; ++b) {
      cumulative += s.totals[layout.confidenceBin(b)];
      const std::string le = fmt::format("{}", (b + 1.0) / kConfidenceBins);
      std::vector<Label> l = base;
      l.emplace_back("le", le);
      w.sampleList(name("output_confidence_bucket"), l, static_cast<double>(cumulative));
    }
    std::vector<Label> inf = base;
    inf.emplace_back("le", "+Inf");
    w.sampleList(name("output_confidence_bucket"), inf, static_cast<double>(cumulative));
    double sum = 0;
    for (int b = 0; b < kConfidenceBins; ++b) {
      sum += s.totals[layout.confidenceBin(b)] * (b + 0.5) / kConfidenceBins;
    }
    w.sampleList(name("output_confidence_sum"), base, sum);
    w.sampleList(name("output_confidence_count"), base, static_cast<double>(cumulative));
    for (int f = 0; f < kFinishSlots; ++f) {
      const uint64_t v = s.totals[layout.finish(f)];
      if (v > 0) {
        std::vector<Label> l = base;
        l.emplace_back("reason", kFinishReasons[f]);
        w.sampleList(name("output_finish_reason_total"), l, static_cast<double>(v));
      }
    }
    for (size_t label = 0; label < snapshot.labels.size(); ++label) {
      const int slot = label + 1 == snapshot.labels.size() ? kMaxLabels : static_cast<int>(label);
      const uint64_t v = s.totals[layout.label(slot)];
      if (v > 0) {
        std::vector<Label> l = base;
        l.emplace_back("label", snapshot.labels[label]);
        w.sampleList(name("output_labels_total"), l, static_cast<double>(v));
      }
    }
  }
  w.family(name("output_tokens"), "histogram", "Completion tokens per answer.");
  for (const SeriesStats& s : snapshot.series) {
    writeLogHistogram(w, name("output_tokens"),
                      {{"model", s.name.model}, {"version", s.name.version}}, s.totals,
                      layout.outputTokens(0), layout.sizeBuckets(), kSizeBounds, 0);
  }
  w.family(name("output_low_confidence_ratio"), "gauge",
           "Answers below the confidence threshold / scored answers, in a window.");
  w.family(name("output_mean_confidence"), "gauge", "Mean token probability in a window.");
  for (const ModelStats& m : snapshot.models) {
    for (size_t win = 0; win < snapshot.window_names.size(); ++win) {
      const std::vector<Label> l = {{"model", m.model}, {"window", snapshot.window_names[win]}};
      writeGauge(w, name("output_low_confidence_ratio"), l, m.windows[win].low_confidence_ratio);
      writeGauge(w, name("output_mean_confidence"), l, m.windows[win].mean_confidence);
    }
  }
  w.family(name("output_label_drift_index"), "gauge",
           "Label drift index: PSI of the window's labels against the baseline's (R1.2).");
  w.family(name("output_label_js_distance"), "gauge",
           "Jensen-Shannon distance of the window's labels from the baseline's.");
  w.family(name("output_kl_divergence"), "gauge", "KL divergence of an output histogram.");
  w.family(name("output_wasserstein_distance"), "gauge",
           "Normalised Wasserstein-1 distance of an output feature from the baseline.");
  for (const ModelStats& m : snapshot.models) {
    auto label = m.output.find("label");
    if (label != m.output.end()) {
      writeGauge(w, name("output_label_drift_index"), {{"model", m.model}}, label->second.psi);
      writeGauge(w, name("output_label_js_distance"), {{"model", m.model}}, label->second.js);
    }
    for (const auto& [feature, d] : m.output) {
      writeGauge(w, name("output_kl_divergence"), {{"model", m.model}, {"feature", feature}}, d.kl);
      writeGauge(w, name("output_wasserstein_distance"), {{"model", m.model}, {"feature", feature}},
                 d.wasserstein);
    }
  }
  w.family(name("baseline_present"), "gauge", "1 when the model has a drift baseline.");
  for (const ModelStats& m : snapshot.models) {
    w.sampleList(name("baseline_present"), {{"model", m.model}}, m.has_baseline ? 1 : 0);
  }
}

}  // namespace dw::observe
