#include "observe/shard.h"

#include <cmath>

namespace dw::observe {

WorkerShard::WorkerShard() = default;

WorkerShard::~WorkerShard() {
  for (auto& series : series_) {
    delete[] series.load();
  }
}

std::atomic<uint64_t>* WorkerShard::allocate(int series) {
  auto* counters = new std::atomic<uint64_t>[Layout::get().size()];
  for (int i = 0; i < Layout::get().size(); ++i) {
    counters[i].store(0, std::memory_order_relaxed);
  }
  // Release: a reader that sees the pointer sees the zeroed counters.
  series_[series].store(counters, std::memory_order_release);
  return counters;
}

void recordInput(WorkerShard& shard, int series, const InputScanner& input) {
  const Layout& layout = Layout::get();
  shard.add(series, layout.inputRequests());
  const uint32_t abnormal = input.abnormal();
  if (abnormal != 0) {
    shard.add(series, layout.inputAbnormalAny());
    for (int k = 0; k < kAbnormalKinds; ++k) {
      if ((abnormal & (1U << k)) != 0) {
        shard.add(series, layout.abnormal(static_cast<Abnormal>(k)));
      }
    }
  }
  for (int s = 0; s < kScripts; ++s) {
    if (input.scripts()[s] != 0) {
      shard.add(series, layout.script(static_cast<Script>(s)), input.scripts()[s]);
    }
  }
  for (int b = 0; b < kTokenBins; ++b) {
    if (input.tokenBins()[b] != 0) {
      shard.add(series, layout.tokenBin(b), input.tokenBins()[b]);
    }
  }
  const stats::LogBuckets& sizes = layout.sizeBuckets();
  shard.add(series, layout.promptChars(sizes.index(input.chars())));
  shard.add(series, layout.promptTokensHist(sizes.index(input.tokens())));
  shard.add(series, layout.messages(sizes.index(input.messages())));
}

void recordResponse(WorkerShard& shard, int series, Endpoint endpoint, int status, bool stream,
                    double seconds) {
  const Layout& layout = Layout::get();
  shard.add(series, layout.requests(endpoint, codeSlot(status), stream));
  shard.add(series, layout.duration(layout.latencyBuckets().index(seconds)));
  shard.add(series, layout.durationSumMicros(), static_cast<uint64_t>(std::llround(seconds * 1e6)));
}

void recordTimeToFirstToken(WorkerShard& shard, int series, double seconds) {
  const Layout& layout = Layout::get();
  shard.add(series, layout.ttft(layout.latencyBuckets().index(seconds)));
  shard.add(series, layout.ttftSumMicros(), static_cast<uint64_t>(std::llround(seconds * 1e6)));
}

void recordInterToken(WorkerShard& shard, int series, double seconds) {
  const Layout& layout = Layout::get();
  shard.add(series, layout.itl(layout.latencyBuckets().index(seconds)));
  shard.add(series, layout.itlSumMicros(), static_cast<uint64_t>(std::llround(seconds * 1e6)));
}

void recordOutput(WorkerShard& shard, int series, const OutputFeatures& output, int label_slot,
                  double low_confidence) {
  const Layout& layout = Layout::get();
  shard.add(series, layout.outputResponses());
  if (output.has_usage) {
    shard.add(series, layout.promptTokens(), output.prompt_tokens);
    shard.add(series, layout.completionTokens(), output.completion_tokens);
    shard.add(series, layout.cachedTokens(), output.cached_tokens);
    shard.add(series, layout.reasoningTokens(), output.reasoning_tokens);
  }
  const uint64_t tokens = output.has_usage ? output.completion_tokens : output.content_pieces;
  shard.add(series, layout.outputTokens(layout.sizeBuckets().index(static_cast<double>(tokens))));
  const double confidence = output.confidence();
  if (confidence >= 0) {
    shard.add(series, layout.confidenceScored());
    int bin = static_cast<int>(confidence * kConfidenceBins);
    bin = bin < 0 ? 0 : (bin >= kConfidenceBins ? kConfidenceBins - 1 : bin);
    shard.add(series, layout.confidenceBin(bin));
    if (confidence < low_confidence) {
      shard.add(series, layout.lowConfidence());
    }
  }
  shard.add(series, layout.finish(output.error ? finishSlot("error")
                                               : finishSlot(output.finish_reason.empty()
                                                                ? "other"
                                                                : output.finish_reason)));
  shard.add(series, layout.label(label_slot < 0 ? kMaxLabels : std::min(label_slot, kMaxLabels)));
}

}  // namespace dw::observe
